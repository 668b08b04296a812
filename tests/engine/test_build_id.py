"""Workers report the build id they are given (worker.py: WORKER_BUILD_ID) with each workflow
task they complete: a run's history, and the Web UI, name the release that ran each task."""

from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Sessions, build_worker
from inngest_temporal.testing import task_builds
from tests.engine.conftest import dispatcher_of, engine_worker
from tests.engine.functions import FanOutA, Key, Ping
from tests.support import unique


async def test_every_workflow_task_names_the_build_that_ran_it(
    dev_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client = dev_env.client
    async with engine_worker(
        client, sessions, task_queue, [FanOutA], build_id="release-7"
    ) as sender:
        accepted, _ = await sender.send([Ping(id=unique("evt"), data=Key(key=unique("k")))])
        run = client.get_workflow_handle(f"fan-out-a-{accepted.ids[0]}")
        await run.result()

    assert await task_builds(run) == ["release-7"]


async def test_the_admission_gates_worker_reports_the_same_build(
    dev_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """The gates' queue serves only runs admitted before permits moved to the database (none
    start now): its worker is checked by its configuration."""
    dispatcher = dispatcher_of(dev_env.client, sessions, task_queue, [FanOutA])
    workers = build_worker(dev_env.client, dispatcher, task_queue, [], build_id="release-7")
    assert (
        workers.gates.config()["build_id"] == workers.functions.config()["build_id"] == "release-7"
    )
