"""A run evicted from a worker's cache (the cache is full, or the worker stops) is not ended: it
resumes elsewhere from its history. Its coroutine may be collected on a thread with no event
loop (a workflow thread), so nothing on that path may await."""

import asyncio
import gc
import sys
from typing import Any

from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Sessions
from tests.engine.conftest import engine_worker
from tests.engine.functions import Key, Ping, Waiter
from tests.support import eventually, unique


async def test_a_run_evicted_from_the_cache_leaves_no_error_behind(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client, key = skipping_env.client, unique("k")
    ignored: list[Any] = []
    hook = sys.unraisablehook
    sys.unraisablehook = ignored.append
    try:
        async with engine_worker(client, sessions, task_queue, [Waiter]) as sender:
            await sender.send([Ping(data=Key(key=key))])
            handle = client.get_workflow_handle(f"waiter-{key}")

            async def asleep() -> bool | None:
                events = [e async for e in handle.fetch_history_events()]
                return any(e.HasField("timer_started_event_attributes") for e in events) or None

            await eventually(asleep)
        # The worker stopped and evicted the sleeping run; its coroutine is closed where it is
        # collected: on a thread with no event loop, as a workflow thread is.
        await asyncio.to_thread(gc.collect)
    finally:
        sys.unraisablehook = hook

    assert [repr(u.exc_value) for u in ignored] == []
