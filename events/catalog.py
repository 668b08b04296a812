"""The event contract: every event name the service accepts, and how raw JSON becomes typed."""

from typing import Any

from pydantic import ValidationError

from events.billing import PaymentFailed, SubscriptionCreated, SubscriptionDeleted
from events.envelope import Event
from events.orders import (
    OrderCreated,
    OrderFulfilled,
    OrderShipped,
    RefundDecision,
    RefundRequested,
)
from events.users import EmailVerified, SignedUp, SignupCompleted, TrialStarted

EVENT_TYPES: dict[str, type[Event]] = {
    model.event_name: model
    for model in (
        SignupCompleted,
        TrialStarted,
        EmailVerified,
        SignedUp,
        SubscriptionCreated,
        SubscriptionDeleted,
        PaymentFailed,
        OrderCreated,
        OrderFulfilled,
        OrderShipped,
        RefundRequested,
        RefundDecision,
    )
}


class InvalidEvent(ValueError):
    """Raised with a message naming the event (by position) and each problem in it."""


def parse_event(raw: Any, position: int | None = None) -> Event:
    where = "event" if position is None else f"event[{position}]"
    if not isinstance(raw, dict):
        raise InvalidEvent(f"{where}: expected a JSON object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidEvent(f"{where}: 'name' is required")
    model = EVENT_TYPES.get(name)
    if model is None:
        raise InvalidEvent(f"{where}: unknown event name '{name}'")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise InvalidEvent(f"{where} '{name}': {problems}") from None


def parse_events(raw: Any) -> list[Event]:
    """One event or a list; all-or-nothing: the first invalid one rejects the whole request."""
    if isinstance(raw, list):
        if not raw:
            raise InvalidEvent("the event list is empty")
        return [parse_event(item, index) for index, item in enumerate(raw)]
    return [parse_event(raw)]
