"""The functions an application runs, indexed once: which start on, wait for, or are cancelled by
an event name; and operators' overrides of their limits."""

import dataclasses
from collections.abc import Iterable
from datetime import timedelta

from pydantic import BaseModel, Field

from inngest_temporal.catalog import EventCatalog
from inngest_temporal.events import Event
from inngest_temporal.function import Concurrency, Cron, FunctionSpec, Throttle


class LimitOverride(BaseModel):
    limit: int = Field(gt=0)
    period_seconds: float | None = Field(default=None, gt=0)


class FunctionOverride(BaseModel):
    """An operator's change of a function's declared throttle or concurrency, without a deploy."""

    throttle: LimitOverride | None = None
    concurrency: LimitOverride | None = None


class Registry:
    def __init__(
        self,
        functions: Iterable[type],
        events: Iterable[type[Event]] = (),
        overrides: dict[str, FunctionOverride] | None = None,
    ) -> None:
        """`functions`: the classes decorated with @function; `events`: events the application
        sends that no function is triggered by (yet)."""
        self.functions: tuple[FunctionSpec, ...] = tuple(
            getattr(f, "spec")  # noqa: B009 (set by @function, unknown to the type)
            for f in functions
        )
        self.overrides = overrides or {}
        self.by_id = {f.id: f for f in self.functions}
        if len(self.by_id) != len(self.functions):
            raise ValueError("function ids must be unique")
        self.triggered_by: dict[str, list[FunctionSpec]] = {}
        self.waiting_for: dict[str, list[FunctionSpec]] = {}
        self.cancelled_by: dict[str, list[FunctionSpec]] = {}
        models: list[type[Event]] = list(events)
        for f in self.functions:
            if not isinstance(f.trigger, Cron):
                self.triggered_by.setdefault(f.trigger.event_name, []).append(f)
                models.append(f.trigger)
            for m in f.wait_for:
                self.waiting_for.setdefault(m.event.event_name, []).append(f)
                models.append(m.event)
            for m in f.cancel_on:
                self.cancelled_by.setdefault(m.event.event_name, []).append(f)
                models.append(m.event)
        self.catalog = EventCatalog(dict.fromkeys(models))

    def targets(self, name: str) -> list[FunctionSpec]:
        """Every function an event of this name starts, signals or cancels."""
        return [
            *self.triggered_by.get(name, ()),
            *self.waiting_for.get(name, ()),
            *self.cancelled_by.get(name, ()),
        ]

    def effective(self, function_id: str) -> FunctionSpec:
        """The declaration with any operator override of its throttle or concurrency applied."""
        spec = self.by_id[function_id]
        override = self.overrides.get(function_id)
        if override is None:
            return spec
        throttle, concurrency = spec.throttle, spec.concurrency
        if override.throttle is not None and throttle is not None:
            period = override.throttle.period_seconds
            throttle = Throttle(
                limit=override.throttle.limit,
                period=timedelta(seconds=period) if period else throttle.period,
                key=throttle.key,
            )
        if override.concurrency is not None and concurrency is not None:
            concurrency = Concurrency(limit=override.concurrency.limit, key=concurrency.key)
        return dataclasses.replace(spec, throttle=throttle, concurrency=concurrency)

    @property
    def scheduled(self) -> list[FunctionSpec]:
        return [f for f in self.functions if isinstance(f.trigger, Cron)]
