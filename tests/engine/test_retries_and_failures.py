"""Retries as Inngest users expect them, and what a failed run does: the default of 4 retries
with a backoff from about 15 s (jittered), declared retries and backoff exactly as declared, the
function's failure handler, and `inngest/function.failed` for any listener."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Sessions
from tests.engine.conftest import engine_worker
from tests.engine.functions import Declared, Defaults, FailureListener, Flaky, Key, journal
from tests.support import unique


async def run_to_failure(
    env: WorkflowEnvironment, sessions: Sessions, task_queue: str, function: type, key: str
) -> timedelta:
    """Starts the function directly and answers how long (server time) its run took to fail."""
    async with engine_worker(env.client, sessions, task_queue, [function, FailureListener]):
        handle = await env.client.start_workflow(
            function.run,  # type: ignore[attr-defined]
            Flaky(id=unique("evt"), data=Key(key=key)),
            id=unique("run"),
            task_queue=task_queue,
        )
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        events = [e async for e in handle.fetch_history_events()]
        # Let the failure listener the run's report started finish on this worker.
        for _ in range(200):
            if any(e["function"] == "failure-listener" for e in journal()):
                break
            await env.sleep(timedelta(seconds=1))
    first, last = events[0].event_time.ToDatetime(), events[-1].event_time.ToDatetime()
    return last - first


async def test_a_function_without_retries_gets_inngests_four_with_a_long_backoff(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    key = unique("k")
    took = await run_to_failure(skipping_env, sessions, task_queue, Defaults, key)

    attempts = [e for e in journal() if e["key"] == key and e["step"] == "doomed"]
    assert len(attempts) == 5
    # 15 s, 30 s, 1 min, 2 min between them (225 s), spread by up to 25% per run.
    assert timedelta(seconds=225) <= took < timedelta(seconds=225 * 1.25 + 10)


async def test_declared_retries_and_backoff_stay_as_declared_and_the_failure_is_handled(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    key = unique("k")
    took = await run_to_failure(skipping_env, sessions, task_queue, Declared, key)

    attempts = [e for e in journal() if e["key"] == key and e["step"] == "doomed"]
    assert len(attempts) == 3  # retries=2
    assert timedelta(seconds=3) <= took < timedelta(seconds=5)  # 1 s, then 2 s: no jitter
    # The function's own handler ran once, with the error ...
    handled = [e["step"] for e in journal() if e["key"] == key and e["step"].startswith("on-")]
    assert handled == ["on-failure doomed is broken"]
    # ... and `inngest/function.failed` reached the function listening to failures.
    listened = [e["step"] for e in journal() if e["function"] == "failure-listener"]
    assert listened == ["declared failed"]
