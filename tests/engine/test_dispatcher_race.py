"""Two dispatchers (two pools, as two processes have) racing over 500 stored events route each
event to each function exactly once, on SQLite (one writer at a time) and on PostgreSQL (FOR
UPDATE SKIP LOCKED). Temporal is a recording fake (tests/engine/fake_temporal.py)."""

import asyncio
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import func, select
from temporalio.client import Client

from inngest_temporal import Dispatcher, Router
from inngest_temporal.store import EventRoute, StoredEvent
from tests.engine.conftest import LogDatabase
from tests.engine.fake_temporal import FakeTemporal
from tests.engine.pings import ping, ping_registry

EVENTS = 500
BATCH = 20


async def drain(dispatcher: Dispatcher) -> None:
    while await dispatcher.route_due():
        pass


async def test_two_dispatchers_route_every_event_once_per_function(log_db: LogDatabase) -> None:
    registry = ping_registry()
    # Each dispatcher's first start waits for the other's: both hold a claimed batch at once.
    server = FakeTemporal(meet=2)
    async with log_db.sessions() as storing, log_db.sessions() as a, log_db.sessions() as b:
        # Stored without a lease, as if the process that accepted them had died before routing.
        store = Dispatcher(storing, Router(cast(Client, None), "tq", registry), lease=timedelta(0))
        async with storing() as session, session.begin():
            accepted = await store.store(
                session, [ping(f"race-{i}", f"key-{i}") for i in range(EVENTS)]
            )
        assert len(accepted.stored) == EVENTS

        def dispatcher(sessions: Any, name: str) -> Dispatcher:
            router = Router(server.client(name), "tq", registry)
            return Dispatcher(sessions, router, batch_size=BATCH, route_timeout=60)

        await asyncio.gather(drain(dispatcher(a, "a")), drain(dispatcher(b, "b")))

        async with storing() as session:
            unrouted = await session.scalar(
                select(func.count()).where(StoredEvent.routed_at.is_(None))
            )
            routes = await session.scalar(select(func.count()).select_from(EventRoute))

    functions = registry.triggered_by["test/ping"]
    expected = {
        f.workflow_id(ping(f"race-{i}", f"key-{i}").to_json())
        for i in range(EVENTS)
        for f in functions
    }
    assert set(server.calls) == expected
    assert [id for id, n in server.calls.items() if n != 1] == []
    assert (unrouted, routes) == (0, EVENTS * len(functions))
    # Both took part: each held a batch while the other routed one.
    assert server.by_dispatcher["a"] > 0 and server.by_dispatcher["b"] > 0
