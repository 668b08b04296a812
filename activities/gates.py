"""Talks to the admission gates (workflows) on behalf of a run that wants a permit."""

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client

from workflows.gate import Acquire, GateState, GateWorkflow, gate_id

if TYPE_CHECKING:
    from events.registry import Registry


class PermitRequest(BaseModel):
    task_queue: str
    function_id: str
    kind: Literal["throttle", "concurrency"]
    key: str
    holder: str

    @property
    def gate_id(self) -> str:
        return gate_id(self.task_queue, self.function_id, self.kind, self.key)


class GateActivities:
    def __init__(self, client: Client, task_queue: str, registry: "Registry") -> None:
        self._client = client
        self._task_queue = task_queue
        self._registry = registry

    @activity.defn
    async def request_permit(self, request: PermitRequest) -> str:
        # Limits are read here, outside the workflow, so an override in settings applies to
        # running workers without touching workflow determinism.
        spec = self._registry.effective(request.function_id)
        if request.kind == "throttle":
            assert spec.throttle is not None
            acquire = Acquire(
                holder=request.holder,
                limit=spec.throttle.limit,
                period_seconds=spec.throttle.period.total_seconds(),
            )
        else:
            assert spec.concurrency is not None
            acquire = Acquire(holder=request.holder, limit=spec.concurrency.limit)
        # Signal-with-start: creates the gate on first use; the gate dedupes a repeated request.
        await self._client.start_workflow(
            GateWorkflow.run,
            GateState(
                gate_id=request.gate_id, limit=acquire.limit, period_seconds=acquire.period_seconds
            ),
            id=request.gate_id,
            task_queue=self._task_queue,
            start_signal="acquire",
            start_signal_args=[acquire],
        )
        return request.gate_id
