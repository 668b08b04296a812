"""Two dispatchers (two pools, as two processes have) racing over 500 stored events route each
event to each function exactly once, on SQLite (one writer at a time) and on PostgreSQL (FOR
UPDATE SKIP LOCKED). Temporal is a recording fake here: it counts start calls per workflow id, so
a second routing shows even though a real server would refuse it."""

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from inngest_temporal import Dispatcher, Router
from inngest_temporal.store import EventRoute, StoredEvent
from tests.engine.conftest import LogDatabase
from tests.engine.pings import ping, ping_registry

EVENTS = 500
BATCH = 20


class FakeTemporal:
    """The server: every start call, by workflow id and by the dispatcher that made it."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.by_dispatcher: Counter[str] = Counter()
        self.running: dict[str, str] = {}  # workflow id: the summary it was started with
        # Each dispatcher's first start waits for the other's: both hold a claimed batch at once.
        self.arrived: set[str] = set()
        self.both_routing = asyncio.Event()


class FakeClient:
    def __init__(self, server: FakeTemporal, name: str) -> None:
        self.server = server
        self.name = name

    async def start_workflow(
        self, workflow: str, arg: Any, *, id: str, static_summary: str, **options: Any
    ) -> None:
        server = self.server
        server.calls[id] += 1
        server.by_dispatcher[self.name] += 1
        server.arrived.add(self.name)
        if len(server.arrived) == 2:
            server.both_routing.set()
        await asyncio.wait_for(server.both_routing.wait(), timeout=60)
        if id in server.running:
            raise WorkflowAlreadyStartedError(id, workflow)
        server.running[id] = static_summary

    def get_workflow_handle(self, workflow_id: str) -> "FakeHandle":
        """What the router asks of a keyed function's run when it retries an event."""
        return FakeHandle(self.server, workflow_id)


class FakeHandle:
    def __init__(self, server: FakeTemporal, workflow_id: str) -> None:
        self.server = server
        self.workflow_id = workflow_id

    async def describe(self) -> "FakeHandle":
        if self.workflow_id not in self.server.running:
            raise RPCError("not found", RPCStatusCode.NOT_FOUND, b"")
        return self

    async def static_summary(self) -> str:
        return self.server.running[self.workflow_id]


async def drain(dispatcher: Dispatcher) -> None:
    while await dispatcher.route_due():
        pass


async def test_two_dispatchers_route_every_event_once_per_function(log_db: LogDatabase) -> None:
    registry = ping_registry()
    server = FakeTemporal()
    async with log_db.sessions() as storing, log_db.sessions() as a, log_db.sessions() as b:
        # Stored without a lease, as if the process that accepted them had died before routing.
        store = Dispatcher(storing, Router(cast(Client, None), "tq", registry), lease=timedelta(0))
        async with storing() as session, session.begin():
            accepted = await store.store(
                session, [ping(f"race-{i}", f"key-{i}") for i in range(EVENTS)]
            )
        assert len(accepted.stored) == EVENTS

        def dispatcher(sessions: Any, name: str) -> Dispatcher:
            router = Router(cast(Client, FakeClient(server, name)), "tq", registry)
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
