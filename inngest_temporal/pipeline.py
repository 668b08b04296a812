"""The base of every function: its step tools, its inbox of events, admission before the first
step (throttle, concurrency), and what happens when it fails."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, FailureError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from inngest_temporal.admission import GateActivities
    from inngest_temporal.events import Event, FailureDetail, FunctionFailed, FunctionFailedData
    from inngest_temporal.function import Concurrency, FunctionSpec, Throttle, lookup
    from inngest_temporal.permits import (
        GRANTED_SIGNAL,
        Holder,
        PermitActivities,
        PermitRequest,
    )
    from inngest_temporal.router import EVENT_SIGNAL
    from inngest_temporal.steps import Steps

# A full gate refuses new arrivals; they ask again, backing off up to half a minute.
PERMIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


class Pipeline:
    spec: ClassVar[FunctionSpec]

    def __init__(self) -> None:
        # Initialised before any signal handler runs (signals can precede `run`).
        self.inbox: dict[str, list[dict[str, Any]]] = {}
        self._seen_events: set[str] = set()
        self._granted: set[str] = set()
        self._confirmations: list[asyncio.Future[None]] = []
        self.trigger_id = ""
        self.step = Steps(self)

    async def on_failure(self, failure: FunctionFailed) -> None:
        """Inngest's onFailure: override to run steps once the run failed after its retries (the
        triggering event is `failure.data.event`, the error `failure.data.error`)."""

    @workflow.signal(name=EVENT_SIGNAL)
    def _receive_event(self, event: dict[str, Any]) -> None:
        event_id = str(event.get("id", ""))
        name = str(event.get("name", ""))
        expected = {m.event.event_name for m in (*self.spec.wait_for, *self.spec.cancel_on)}
        if name not in expected or event_id in self._seen_events:
            return
        self._seen_events.add(event_id)
        self.inbox.setdefault(name, []).append(event)

    @workflow.signal(name=GRANTED_SIGNAL)
    def _permit_granted(self, gate_id: str) -> None:
        self._granted.add(gate_id)

    async def _execute(self, body: Callable[[Any, Any], Awaitable[Any]], event: Any) -> Any:
        info = workflow.info()
        # A scheduled run's timer event has no id (a Schedule's input is fixed); its workflow id
        # (schedule action id + scheduled time) is unique per run, so keys never repeat.
        has_id = isinstance(event, Event) and event.id
        self.trigger_id = event.id if has_id else info.workflow_id
        self.step.retry_policy = self.spec.retry_policy(workflow.random().random())
        held: list[PermitRequest] = []  # concurrency permits taken from the database
        gated: list[str] = []  # concurrency permits from gates (runs admitted before them)
        try:
            for request, in_database in self._permit_requests(event):
                if not in_database:
                    await self._ask_gate(request, gated)
                    continue
                if request.kind == "concurrency":
                    held.append(request)  # before waiting: a run cancelled in line leaves it
                await self._take_permit(request)
            return await body(self, event)
        except FailureError as err:
            if not is_cancelled_exception(err) and self.spec.reports_failures:
                await self._report_failure(event, err)
            raise
        except GeneratorExit:
            # Evicted from the worker's cache, not ended: it resumes elsewhere.
            held.clear()
            gated.clear()
            self._confirmations.clear()
            raise
        finally:
            for request in held:
                try:
                    await self._permit_activity(
                        PermitActivities.give_back, request, "admission: return"
                    )
                except FailureError:
                    workflow.logger.warning("could not return %s; gone runs' are", request.gate_id)
            # A confirmation still on its way is waited for (a run that ended in the task that
            # got its permit): a lost one would keep its grant in the throttle's window. Only
            # then: an evicted run's coroutine is closed on a thread with no event loop, where
            # even an empty gather raises.
            if self._confirmations:
                await asyncio.gather(*self._confirmations, return_exceptions=True)
            holder = self._holder() if gated else None
            for gate_id in gated:
                try:
                    await workflow.get_external_workflow_handle(gate_id).signal("release", holder)
                except FailureError:
                    workflow.logger.warning("could not release %s; its probe will", gate_id)

    async def _take_permit(self, request: PermitRequest) -> None:
        """A throttle's slot (sleeping until it comes), or a concurrency permit (waiting in line
        for the signal that hands it over, and looking again now and then in case it was lost)."""
        if request.kind == "throttle":
            asking = request.model_copy(update={"at": workflow.now()})
            permit = await self._permit_activity(PermitActivities.take, asking, "admission")
            if not permit.granted:
                await workflow.sleep(timedelta(seconds=permit.wait_seconds), summary="throttled")
            return
        permit = await self._permit_activity(PermitActivities.take, request, "admission")
        while not permit.granted:
            try:
                await workflow.wait_condition(
                    self._granted_to(request.gate_id), timeout=permit.recheck_seconds
                )
                return
            except TimeoutError:
                permit = await self._permit_activity(
                    PermitActivities.check, request, "admission: in line"
                )

    async def _permit_activity(
        self,
        activity: Callable[[Any, PermitRequest], Awaitable[Any]],
        request: PermitRequest,
        what: str,
    ) -> Any:
        return await workflow.execute_local_activity_method(
            activity,
            request,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PERMIT_RETRY,
            summary=f"{what} ({request.kind})",
        )

    async def _ask_gate(self, request: PermitRequest, gated: list[str]) -> None:
        grant = await self._permit_activity(GateActivities.request_permit, request, "admission")
        if request.kind == "concurrency":
            gated.append(request.gate_id)
        if not grant.granted:
            await workflow.wait_condition(self._granted_to(request.gate_id))
        elif request.kind == "throttle":
            # Sent with this task's commands, not awaited: no extra round trip.
            gate = workflow.get_external_workflow_handle(request.gate_id)
            self._confirmations.append(
                asyncio.ensure_future(gate.signal("admitted", request.holder))
            )

    async def _report_failure(self, event: Any, err: FailureError) -> None:
        """Runs the failure handler, then sends `inngest/function.failed` for any listener."""
        cause = err
        while cause.cause is not None and isinstance(cause.cause, FailureError):
            cause = cause.cause
        name = cause.type if isinstance(cause, ApplicationError) and cause.type else "Error"
        failure = FunctionFailed(
            data=FunctionFailedData(
                function_id=self.spec.id,
                run_id=workflow.info().run_id,
                error=FailureDetail(name=name, message=cause.message),
                event=event.to_json() if isinstance(event, Event) else {},
            )
        )
        try:
            await self.on_failure(failure)
        finally:
            await self.step.send_event("report-failure", failure)

    def _holder(self) -> Holder:
        info = workflow.info()
        return Holder(workflow_id=info.workflow_id, run_id=info.run_id)

    def _granted_to(self, gate_id: str) -> Callable[[], bool]:
        return lambda: gate_id in self._granted

    def _permit_requests(self, event: Any) -> list[tuple[PermitRequest, bool]]:
        """Throttle first (it paces starts), then concurrency (it bounds what runs at once); each
        with whether it is taken from the database (True) or from a gate.

        Patch markers keep runs in flight replaying as they ran: a run started before a limit
        was added has neither marker and is not limited; one admitted by a gate has only
        `admission-<kind>`."""
        spec = self.spec
        data = event.to_json() if isinstance(event, Event) else {}
        limits: tuple[tuple[Literal["throttle", "concurrency"], Throttle | Concurrency | None], ...]
        limits = (("throttle", spec.throttle), ("concurrency", spec.concurrency))
        requests = []
        for kind, limit in limits:
            if limit is None:
                continue
            if workflow.patched(f"permits-{kind}"):
                in_database = True
            elif workflow.patched(f"admission-{kind}"):
                in_database = False
            else:
                continue
            request = PermitRequest(
                task_queue=workflow.info().task_queue,
                function_id=spec.id,
                kind=kind,
                key=lookup(data, limit.key) if limit.key else "",
                holder=self._holder(),
            )
            requests.append((request, in_database))
        return requests
