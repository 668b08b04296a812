"""The production worker entry point runs pipelines from a separate process."""

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from events.users import SignupCompleted, SignupCompletedData
from tests.processes import WorkerProcess
from tests.support import unique
from workflows.provision_account import ProvisionAccountWorkflow


async def test_worker_process_runs_a_pipeline(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, tmp_path: Path
) -> None:
    address = dev_env.client.service_client.config.target_host
    worker = WorkerProcess(address, database_url, task_queue, tmp_path / "worker.log").start()
    try:
        user_id = unique("user")
        result = await dev_env.client.execute_workflow(
            ProvisionAccountWorkflow.run,
            SignupCompleted(
                id=unique("evt"),
                data=SignupCompletedData(
                    user_id=user_id, email=f"{user_id}@example.com", name="Proc", plan="free"
                ),
            ),
            id=unique("wf"),
            task_queue=task_queue,
        )
    finally:
        worker.stop()
    assert result.user.id == user_id
    assert result.workspace.name == "Proc's Workspace"
