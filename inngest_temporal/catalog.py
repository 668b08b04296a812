"""The event contract: every event name accepted, and how raw JSON becomes a typed event.

The names are derived, never listed by hand: the functions' triggers and matches, plus the events
an application declares it sends without any function listening yet."""

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from inngest_temporal.events import Event, FunctionFailed, ScheduledTimer

# Names only the engine itself sends: an outside sender cannot fake a failure or a cron tick.
RESERVED_PREFIX = "inngest/"


class InvalidEvent(ValueError):
    """Raised with a message naming the event (by position) and each problem in it."""


class EventCatalog:
    def __init__(self, models: Iterable[type[Event]]) -> None:
        self.models: dict[str, type[Event]] = {}
        everything: list[type[Event]] = [*models, FunctionFailed, ScheduledTimer]
        for model in everything:
            known = self.models.setdefault(model.event_name, model)
            if known is not model:
                raise ValueError(f"two models for the event '{model.event_name}'")

    @property
    def public_names(self) -> list[str]:
        return sorted(n for n in self.models if not n.startswith(RESERVED_PREFIX))

    def parse(self, raw: Any, position: int | None = None, *, internal: bool = False) -> Event:
        where = "event" if position is None else f"event[{position}]"
        if not isinstance(raw, dict):
            raise InvalidEvent(f"{where}: expected a JSON object")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidEvent(f"{where}: 'name' is required")
        model = self.models.get(name)
        if model is None or (name.startswith(RESERVED_PREFIX) and not internal):
            shown = name if len(name) <= 100 else name[:100] + "..."
            raise InvalidEvent(f"{where}: unknown event name '{shown}'")
        try:
            return model.model_validate(raw)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            raise InvalidEvent(f"{where} '{name}': {problems}") from None

    def parse_many(self, raw: Any, *, internal: bool = False) -> list[Event]:
        """One event or a list; all-or-nothing: the first invalid one rejects the whole request."""
        if isinstance(raw, list):
            if not raw:
                raise InvalidEvent("the event list is empty")
            return [self.parse(item, index, internal=internal) for index, item in enumerate(raw)]
        return [self.parse(raw, internal=internal)]
