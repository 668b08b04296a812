"""How a function is declared: once, next to its workflow, read by the router and the worker.

@function(id="manage-trial-workflow", trigger=TrialStarted,
          cancel_on=[Match(SubscriptionCreated, "data.userId")])
class ManageTrialWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: TrialStarted) -> TrialResult: ...
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from inngest_temporal.events import Event, FunctionFailed

# Inngest's default: 4 retries (5 attempts).
DEFAULT_RETRIES = 4


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between a step's attempts (doubling from `min_delay` to `max_delay`).

    `jitter` spreads the schedule of each run by up to that fraction, so runs that failed together
    (a database blip) do not all retry in the same second."""

    min_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=5)
    jitter: float = 0.0


# Inngest's schedule starts near 15 s and grows to hours, with jitter: 4 retries wait about
# 15 s, 30 s, 1 min and 2 min, so a function rides out an outage of nearly 4 minutes.
DEFAULT_BACKOFF = Backoff(
    min_delay=timedelta(seconds=15), max_delay=timedelta(hours=4), jitter=0.25
)


@dataclass(frozen=True)
class Throttle:
    """At most `limit` runs start per `period` (per key value); the rest wait, in order."""

    limit: int
    period: timedelta
    key: str | None = None


@dataclass(frozen=True)
class Concurrency:
    """At most `limit` runs execute at once (per key value); the rest wait their turn."""

    limit: int
    key: str | None = None


@dataclass(frozen=True)
class Match:
    """An event that reaches a running function when `match` (a path such as `data.userId`) has
    the same value in it as in the event that started the run."""

    event: type[Event]
    match: str


@dataclass(frozen=True)
class Cron:
    expression: str


@dataclass(frozen=True)
class FunctionSpec:
    id: str
    workflow: type
    trigger: type[Event] | Cron
    retries: int = DEFAULT_RETRIES
    backoff: Backoff = DEFAULT_BACKOFF
    throttle: Throttle | None = None
    concurrency: Concurrency | None = None
    cancel_on: tuple[Match, ...] = ()
    wait_for: tuple[Match, ...] = ()
    # The correlation key: one run at a time per value, and the workflow id waiting and cancelling
    # events are routed to (so routing never scans or queries visibility).
    key: str | None = None

    @property
    def trigger_name(self) -> str | None:
        return None if isinstance(self.trigger, Cron) else self.trigger.event_name

    @property
    def reports_failures(self) -> bool:
        """Whether a failed run sends `inngest/function.failed` (not for its own listeners, so a
        failing failure handler cannot loop)."""
        return self.trigger_name != FunctionFailed.event_name

    def workflow_id(self, event: dict[str, Any]) -> str:
        if self.key is not None:
            return self.keyed_workflow_id(lookup(event, self.key))
        return f"{self.id}-{event['id']}"

    def keyed_workflow_id(self, value: str) -> str:
        return f"{self.id}-{value}"

    def retry_policy(self, spread: float = 0.0) -> RetryPolicy:
        """`spread` in [0, 1): where this run falls within the backoff's jitter."""
        return RetryPolicy(
            initial_interval=self.backoff.min_delay * (1 + self.backoff.jitter * spread),
            backoff_coefficient=2.0,
            maximum_interval=self.backoff.max_delay,
            maximum_attempts=self.retries + 1,
        )


def lookup(event: dict[str, Any], path: str) -> str:
    """The value at a dotted path such as `data.userId`, as a string ('' when absent)."""
    value: Any = event
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


W = TypeVar("W", bound=type)


def function(
    *,
    id: str,
    trigger: type[Event] | Cron,
    retries: int = DEFAULT_RETRIES,
    backoff: Backoff = DEFAULT_BACKOFF,
    throttle: Throttle | None = None,
    concurrency: Concurrency | None = None,
    cancel_on: list[Match] | None = None,
    wait_for: list[Match] | None = None,
    key: str | None = None,
) -> Callable[[W], W]:
    """Declare a function: the class (a Pipeline) becomes the Temporal workflow named `id`."""
    matches = [*(cancel_on or []), *(wait_for or [])]
    if matches and key is None:
        key = matches[0].match
    for m in matches:
        if m.match != key:
            raise ValueError(f"{id}: every cancel_on/wait_for must match on the key '{key}'")

    def apply(cls: W) -> W:
        cls.spec = FunctionSpec(  # type: ignore[attr-defined]
            id=id,
            workflow=cls,
            trigger=trigger,
            retries=retries,
            backoff=backoff,
            throttle=throttle,
            concurrency=concurrency,
            cancel_on=tuple(cancel_on or ()),
            wait_for=tuple(wait_for or ()),
            key=key,
        )
        # Wrap the user's run so every function gets the same admission, failure handling and
        # release around its steps, without repeating them in each workflow.
        inner = cls.run  # type: ignore[attr-defined]

        @functools.wraps(inner)
        async def run(self: Any, event: Any) -> Any:
            return await self._execute(inner, event)

        cls.run = run  # type: ignore[attr-defined]
        return workflow.defn(name=id)(cls)

    return apply
