"""Admission by gate workflows (gate.py), as runs admitted before permits moved to the database
(permits.py) still ask it: such a run asks its gate for a permit before its first step, with a
local activity doing one update-with-start. Kept while such runs may be in flight (their
histories replay through it); see `Pipeline._permit_requests`."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from inngest_temporal.permits import Holder, PermitRequest
from inngest_temporal.registry import Registry

GATE_WORKFLOW = "admission-gate"


class Acquire(BaseModel):
    holder: Holder
    limit: int
    period_seconds: float | None = None


class Grant(BaseModel):
    gate_id: str = ""
    granted: bool


class Admission(BaseModel):
    """A throttle's grant: to whom, and from when it counts. A grant answered at once counts
    from when its run confirms it went on (`confirmed`); until then it stays in the window."""

    holder: Holder
    at: datetime
    confirmed: bool = True


class GateState(BaseModel):
    gate_id: str
    limit: int
    period_seconds: float | None = None  # None: concurrency, otherwise throttle
    queue: list[Holder] = []
    holders: list[Holder] = []
    grants: list[Admission] = []
    # How often the gate checks its holders are still running (the longest a gone run's permit
    # is held).
    probe_seconds: float = 30.0


class GateActivities:
    def __init__(
        self, client: Client, task_queue: str, registry: Registry, probe_seconds: float = 30.0
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._registry = registry
        self._probe_seconds = probe_seconds

    @activity.defn(name="request-permit")
    async def request_permit(self, request: PermitRequest) -> Grant:
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
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            GATE_WORKFLOW,
            GateState(
                gate_id=request.gate_id,
                limit=acquire.limit,
                period_seconds=acquire.period_seconds,
                probe_seconds=self._probe_seconds,
            ),
            id=request.gate_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"admission gate of {request.function_id}",
        )
        grant = await self._client.execute_update_with_start_workflow(
            "acquire", acquire, start_workflow_operation=start, result_type=Grant
        )
        return Grant(gate_id=request.gate_id, granted=grant.granted)

    @activity.defn(name="find-gone-runs")
    async def runs_gone(self, holders: list[Holder]) -> list[Holder]:
        """The holders whose run is no longer running (terminated, timed out, reset, ended)."""
        gone = []
        for holder in holders:
            handle = self._client.get_workflow_handle(holder.workflow_id, run_id=holder.run_id)
            try:
                status = (await handle.describe()).status
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                status = None
            if status != WorkflowExecutionStatus.RUNNING:
                gone.append(holder)
        return gone
