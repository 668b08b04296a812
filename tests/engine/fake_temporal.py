"""Temporal as a recording fake for the dispatcher's tests: every start call, by workflow id and by
the dispatcher that made it, so that a second routing shows even though a real server would
refuse it (as this one does)."""

import asyncio
from collections import Counter
from typing import Any, cast

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode


class FakeTemporal:
    def __init__(self, meet: int = 1, unavailable: int = 0) -> None:
        """`meet`: that many dispatchers' first starts wait for each other (all of them hold a
        claimed batch at once). `unavailable`: the first starts refused as by a server down."""
        self.calls: Counter[str] = Counter()
        self.by_dispatcher: Counter[str] = Counter()
        self.running: dict[str, str | None] = {}  # workflow id: the summary it was started with
        self.meet = meet
        self.arrived: set[str] = set()
        self.all_routing = asyncio.Event()
        self.unavailable = unavailable

    def client(self, name: str = "fake") -> Client:
        return cast(Client, FakeClient(self, name))


class FakeClient:
    def __init__(self, server: FakeTemporal, name: str) -> None:
        self.server = server
        self.name = name

    async def start_workflow(
        self, workflow: str, arg: Any, *, id: str, static_summary: str | None, **options: Any
    ) -> None:
        server = self.server
        server.calls[id] += 1
        server.by_dispatcher[self.name] += 1
        server.arrived.add(self.name)
        if len(server.arrived) >= server.meet:
            server.all_routing.set()
        await asyncio.wait_for(server.all_routing.wait(), timeout=60)
        if server.unavailable > 0:
            server.unavailable -= 1
            raise RPCError("the server is down", RPCStatusCode.UNAVAILABLE, b"")
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

    async def static_summary(self) -> str | None:
        return self.server.running[self.workflow_id]
