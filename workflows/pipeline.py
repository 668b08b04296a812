"""The base of every pipeline: Inngest's `step` tools on Temporal, and the run's admission.

A pipeline's `run` reads like the seed's TypeScript:

    user = await self.step.run("create-user-record", AccountActivities.create_user_record, arg)
    await self.step.sleep("wait-for-day-7", timedelta(days=7))
    verified = await self.step.wait_for_event("wait-for-email-verification", EmailVerified,
                                              timeout=timedelta(hours=24))
    await self.step.send_event("start-trial", TrialStarted(data=...))

Each step id is the activity's summary (or the timer's), which is what the Web UI shows.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar, Literal, TypeVar, overload

from temporalio import workflow
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.events import EventActivities, SendEventsInput
    from activities.gates import GateActivities, PermitRequest
    from events.catalog import EVENT_TYPES
    from events.envelope import Event
    from events.function import Concurrency, FunctionSpec, Throttle, lookup
    from workflows.gate import GRANTED_SIGNAL

EVENT_SIGNAL = "event"
EVENT_ID_NAMESPACE = uuid.UUID("6f1d2b8e-5b7a-4c1e-9a55-2f6d0c7e9b10")

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E", bound=Event)


class Steps:
    def __init__(self, pipeline: "Pipeline") -> None:
        self._pipeline = pipeline

    def key(self, step_id: str) -> str:
        """Idempotency key for a step's external call: the same for every attempt and replay."""
        spec = self._pipeline.spec
        return f"{spec.id}/{self._pipeline.trigger_id}/{step_id}"

    @overload
    async def run(
        self,
        step_id: str,
        activity: Callable[[Any, A], Awaitable[R]],
        arg: A,
        *,
        timeout: timedelta = ...,
        heartbeat_timeout: timedelta | None = ...,
    ) -> R: ...

    @overload
    async def run(
        self,
        step_id: str,
        activity: Callable[[A], Awaitable[R]],
        arg: A,
        *,
        timeout: timedelta = ...,
        heartbeat_timeout: timedelta | None = ...,
    ) -> R: ...

    async def run(
        self,
        step_id: str,
        activity: Callable[..., Awaitable[R]],
        arg: Any,
        *,
        timeout: timedelta = timedelta(minutes=1),
        heartbeat_timeout: timedelta | None = None,
    ) -> R:
        result: R = await workflow.execute_activity(
            activity,
            arg,
            summary=step_id,
            start_to_close_timeout=timeout,
            heartbeat_timeout=heartbeat_timeout,
            retry_policy=self._pipeline.spec.retry_policy(),
            # A cancelled run lets the step in flight finish and then ends: between steps.
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        if workflow.cancellation_reason() is not None:
            # Cancelled while the step ran: the SDK hands back its result and would carry on;
            # the step's effect stands, and nothing after it runs.
            raise asyncio.CancelledError(workflow.cancellation_reason())
        return result

    async def sleep(self, step_id: str, duration: timedelta) -> None:
        await workflow.sleep(duration, summary=step_id)

    async def wait_for_event(self, step_id: str, event: type[E], timeout: timedelta) -> E | None:
        """The first matching event received since the run started (not only since the wait
        began, so an early event is never lost), or None on timeout."""
        inbox = self._pipeline.inbox
        name = event.event_name
        try:
            await workflow.wait_condition(
                lambda: bool(inbox.get(name)), timeout=timeout, timeout_summary=step_id
            )
        except TimeoutError:
            return None
        return event.model_validate(inbox[name].pop(0))

    async def send_event(self, step_id: str, events: Event | list[Event]) -> list[str]:
        """Send through the same router as the API; ids derive from the run and step, so a
        retried step sends nothing twice."""
        batch = events if isinstance(events, list) else [events]
        stamped = []
        for index, item in enumerate(batch):
            event_id = str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{self.key(step_id)}/{index}"))
            ts = int(workflow.now().timestamp() * 1000)
            stamped.append(item.model_copy(update={"id": event_id, "ts": item.ts or ts}))
        ids: list[str] = await self.run(
            step_id, EventActivities.send_events, SendEventsInput(events=stamped)
        )
        return ids


class Pipeline:
    spec: ClassVar[FunctionSpec]

    def __init__(self) -> None:
        # Initialised before any signal handler runs (signals can precede `run`).
        self.inbox: dict[str, list[dict[str, Any]]] = {}
        self._seen_events: set[str] = set()
        self._granted: set[str] = set()
        self.trigger_id = ""
        self.step = Steps(self)

    @workflow.signal(name=EVENT_SIGNAL)
    def _receive_event(self, event: dict[str, Any]) -> None:
        event_id = str(event.get("id", ""))
        name = str(event.get("name", ""))
        if name not in EVENT_TYPES or event_id in self._seen_events:
            return
        self._seen_events.add(event_id)
        self.inbox.setdefault(name, []).append(event)

    @workflow.signal(name=GRANTED_SIGNAL)
    def _permit_granted(self, gate_id: str) -> None:
        self._granted.add(gate_id)

    async def _execute(self, body: Callable[[Any, Any], Awaitable[Any]], event: Any) -> Any:
        # A scheduled run's timer event has no id (a Schedule's input is fixed); its workflow id
        # (schedule action id + scheduled time) is unique per run, so keys never repeat.
        has_id = isinstance(event, Event) and event.id
        self.trigger_id = event.id if has_id else workflow.info().workflow_id
        held: list[str] = []
        try:
            for request in self._permit_requests(event):
                await workflow.execute_local_activity_method(
                    GateActivities.request_permit,
                    request,
                    start_to_close_timeout=timedelta(seconds=30),
                )
                if request.kind == "concurrency":
                    held.append(request.gate_id)
                await workflow.wait_condition(self._granted_to(request.gate_id))
            return await body(self, event)
        finally:
            for gate_id in held:
                await workflow.get_external_workflow_handle(gate_id).signal(
                    "release", workflow.info().workflow_id
                )

    def _granted_to(self, gate_id: str) -> Callable[[], bool]:
        return lambda: gate_id in self._granted

    def _permit_requests(self, event: Any) -> list[PermitRequest]:
        """Throttle first (it paces starts), then concurrency (it bounds what runs at once)."""
        spec = self.spec
        data = event.to_json() if isinstance(event, Event) else {}
        limits: tuple[tuple[Literal["throttle", "concurrency"], Throttle | Concurrency | None], ...]
        limits = (("throttle", spec.throttle), ("concurrency", spec.concurrency))
        return [
            PermitRequest(
                task_queue=workflow.info().task_queue,
                function_id=spec.id,
                kind=kind,
                key=lookup(data, limit.key) if limit.key else "",
                holder=workflow.info().workflow_id,
            )
            for kind, limit in limits
            if limit is not None
        ]
