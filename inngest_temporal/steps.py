"""Inngest's `step` tools on Temporal. A function's `run` reads like the seed's TypeScript:

    user = await self.step.run("create-user-record", AccountActivities.create_user_record, arg)
    await self.step.sleep("wait-for-day-7", timedelta(days=7))
    verified = await self.step.wait_for_event("wait-for-email-verification", EmailVerified,
                                              timeout=timedelta(hours=24))
    await self.step.send_event("start-trial", TrialStarted(data=...))

Each step id is the summary of its activity, local activity marker or timer: what the Web UI
shows."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    RetryState,
    is_cancelled_exception,
)
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from inngest_temporal.events import Event
    from inngest_temporal.sending import EventActivities, SendEventsInput

if TYPE_CHECKING:
    from inngest_temporal.pipeline import Pipeline

EVENT_ID_NAMESPACE = uuid.UUID("6f1d2b8e-5b7a-4c1e-9a55-2f6d0c7e9b10")
LOCAL_MARK = "__inngest_local__"
LOCAL_RETRY_THRESHOLD = timedelta(seconds=1)

A = TypeVar("A")
R = TypeVar("R")
E = TypeVar("E", bound=Event)
F = TypeVar("F", bound=Callable[..., Any])


def local_activity(fn: F) -> F:
    """Marks an activity as short work on our own database or pure code: its steps run as local
    activities, recorded in the workflow task that scheduled them (no activity task round trip).
    Not for external calls: a local activity cannot heartbeat."""
    setattr(fn, LOCAL_MARK, True)
    return fn


def _activity_type(activity: Callable[..., Any]) -> str:
    definition = getattr(activity, "__temporal_activity_definition", None)
    return str(getattr(definition, "name", "")) or getattr(activity, "__name__", "")


class Steps:
    def __init__(self, pipeline: "Pipeline") -> None:
        self._pipeline = pipeline
        self.retry_policy = RetryPolicy()

    def key(self, step_id: str) -> str:
        """Idempotency key for a step's external call: the same for every attempt and replay."""
        return f"{self._pipeline.spec.id}/{self._pipeline.trigger_id}/{step_id}"

    @overload
    async def run(
        self,
        step_id: str,
        activity: Callable[[Any, A], Awaitable[R]],
        arg: A,
        *,
        timeout: timedelta = ...,
        heartbeat_timeout: timedelta | None = ...,
        local: bool | None = ...,
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
        local: bool | None = ...,
    ) -> R: ...

    async def run(
        self,
        step_id: str,
        activity: Callable[..., Awaitable[R]],
        arg: Any,
        *,
        timeout: timedelta = timedelta(minutes=1),
        heartbeat_timeout: timedelta | None = None,
        local: bool | None = None,
    ) -> R:
        """One step. `local`: as a local activity (default: as the activity is marked)."""
        # A cancelled run lets the step in flight finish and then ends: between steps.
        cancellation = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
        if local if local is not None else getattr(activity, LOCAL_MARK, False):
            if heartbeat_timeout is not None:
                raise ValueError(f"step {step_id}: a local activity cannot heartbeat")
            try:
                result: R = await workflow.execute_local_activity(
                    activity,
                    arg,
                    summary=step_id,
                    start_to_close_timeout=timeout,
                    retry_policy=self.retry_policy,
                    # Waits between attempts longer than this are durable timers, not a sleep in
                    # the worker: they survive a restart, and test servers skip them.
                    local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                    cancellation_type=cancellation,
                )
            except FailureError as err:
                if is_cancelled_exception(err):
                    raise
                # A local activity's failure arrives bare; wrapped as an activity's is, a step
                # fails the same way however it ran (workflows catch ActivityError).
                raise ActivityError(
                    "Local activity error",
                    scheduled_event_id=0,
                    started_event_id=0,
                    identity="",
                    activity_type=_activity_type(activity),
                    activity_id="",
                    retry_state=RetryState.NON_RETRYABLE_FAILURE
                    if isinstance(err, ApplicationError) and err.non_retryable
                    else RetryState.MAXIMUM_ATTEMPTS_REACHED,
                ) from err
        else:
            result = await workflow.execute_activity(
                activity,
                arg,
                summary=step_id,
                start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat_timeout,
                retry_policy=self.retry_policy,
                cancellation_type=cancellation,
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
        """Stores the events in the log and answers; their routing follows at once. Ids derive
        from the run and step, so a retried step sends nothing twice."""
        batch = events if isinstance(events, list) else [events]
        ts = int(workflow.now().timestamp() * 1000)
        stamped = [
            item.model_copy(
                update={
                    "id": str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{self.key(step_id)}/{index}")),
                    "ts": item.ts or ts,
                }
            )
            for index, item in enumerate(batch)
        ]
        ids: list[str] = await self.run(
            step_id, EventActivities.send_events, SendEventsInput(events=stamped), local=True
        )
        return ids
