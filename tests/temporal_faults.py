"""Temporal answering badly on purpose: a client whose workflow starts fail with an RPC error
(RESOURCE_EXHAUSTED by default), for some workflow types, a given number of times or until told
to stop."""

from collections import Counter
from collections.abc import Collection
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode


class FailingStarts(Interceptor):
    """`workflows`: the workflow types whose starts fail (None: every one); `times`: how many
    starts fail in all (None: until `failing` is set to False)."""

    def __init__(
        self,
        workflows: Collection[str] | None = None,
        times: int | None = None,
        status: RPCStatusCode = RPCStatusCode.RESOURCE_EXHAUSTED,
    ) -> None:
        self.workflows = workflows
        self.times = times
        self.status = status
        self.failing = True
        self.failed: Counter[str] = Counter()  # workflow ids whose start was refused
        self.started: Counter[str] = Counter()  # workflow ids whose start went through

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next, self)

    def client(self, client: Client) -> Client:
        """A client like `client` (same connection, namespace, converter) with these faults."""
        config = client.config()
        config["interceptors"] = [*config["interceptors"], self]
        return Client(**config)

    def _fails(self, workflow: str) -> bool:
        if not self.failing or (self.workflows is not None and workflow not in self.workflows):
            return False
        return self.times is None or sum(self.failed.values()) < self.times


class _Outbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, faults: FailingStarts) -> None:
        super().__init__(next)
        self._faults = faults

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        if self._faults._fails(input.workflow):
            self._faults.failed[input.id] += 1
            raise RPCError(
                f"injected: {self._faults.status.name} for {input.id}", self._faults.status, b""
            )
        handle = await super().start_workflow(input)
        self._faults.started[input.id] += 1
        return handle
