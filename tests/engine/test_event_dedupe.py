"""Dedupe is per event id, in the log, and permanent: an event id sent again starts nothing,
whether its first copy is still waiting to be routed or its keyed run has completed (a keyed
function's workflow id is reusable, so only the log stands between a repeat and a second run).
On the dev server, with small functions; the log on SQLite and on PostgreSQL."""

import asyncio
from collections import Counter

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Dispatcher, Router, Sessions, build_worker
from inngest_temporal.store import StoredEvent
from tests.conftest import TEST_BUILD_ID
from tests.engine.conftest import LogDatabase
from tests.engine.pings import ping, ping_registry
from tests.support import unique
from tests.temporal_faults import FailingStarts


async def route_until_routed(dispatcher: Dispatcher, sessions: Sessions, event_id: str) -> None:
    """The dispatcher's loop, one pass at a time, until the event is routed (its retry is due
    half a second after the failed attempt)."""
    for _ in range(300):
        await dispatcher.route_due()
        async with sessions() as session:
            if await session.scalar(
                select(StoredEvent.routed_at).where(StoredEvent.id == event_id)
            ):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"event {event_id} was never routed")


async def test_a_repeated_event_id_starts_nothing_while_pending_or_after_its_keyed_run(
    dev_env: WorkflowEnvironment, task_queue: str, log_db: LogDatabase
) -> None:
    registry = ping_registry()
    faults = FailingStarts()  # Temporal refuses every start until `failing` is lifted
    key = unique("key")
    event = ping(unique("evt"), key)
    async with log_db.sessions() as sessions:
        dispatcher = Dispatcher(
            sessions, Router(faults.client(dev_env.client), task_queue, registry)
        )
        runs = Dispatcher(sessions, Router(dev_env.client, task_queue, registry))
        async with build_worker(dev_env.client, runs, task_queue, [], build_id=TEST_BUILD_ID):
            accepted, routed = await dispatcher.send([event])
            assert (accepted.ids, list(accepted.stored), routed) == ([event.id], [event.id], False)

            # Again while its routing is pending: nothing stored, and not routed yet.
            again, routed = await dispatcher.send([event])
            assert (again.ids, again.stored, again.pending, routed) == (
                [event.id],
                {},
                [event.id],
                False,
            )

            faults.failing = False
            await route_until_routed(dispatcher, sessions, event.id)
            keyed = dev_env.client.get_workflow_handle(f"test-ping-keyed-{key}")
            assert await keyed.result() == event.id
            first_run = (await keyed.describe()).run_id
            await dev_env.client.get_workflow_handle(f"test-ping-{event.id}").result()

            # Again once both runs completed: nothing stored, nothing started, already routed.
            later, routed = await dispatcher.send([event])
            assert (later.stored, later.pending, routed) == ({}, [], True)
            assert (await keyed.describe()).run_id == first_run
            assert faults.started == Counter(
                {f"test-ping-{event.id}": 1, f"test-ping-keyed-{key}": 1}
            )
            assert sum(faults.failed.values()) == 2  # the refused first attempt, both functions

            # The control: a new event id with the same key does start the keyed function again.
            newer = ping(unique("evt"), key)
            await dispatcher.send([newer])
            await route_until_routed(dispatcher, sessions, newer.id)
            assert await keyed.result() == newer.id
            assert (await keyed.describe()).run_id != first_run
