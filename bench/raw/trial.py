"""RAW_TRIAL=activity: the trial started from an activity holding the Temporal client, the way the
project's send_event step starts it (marked local, as the project's is, so `split` runs it in the
provisioning run's workflow task)."""

from temporalio import activity
from temporalio.client import Client

from bench.raw.inputs import TrialInput
from inngest_temporal.steps import local_activity


class TrialStarter:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    @local_activity
    @activity.defn(name="start-trial")
    async def start_trial(self, trial: TrialInput) -> str:
        workflow_id = f"manage-trial-workflow-{trial.user_id}"
        await self._client.start_workflow(
            "manage-trial-workflow", trial, id=workflow_id, task_queue=self._task_queue
        )
        return workflow_id
