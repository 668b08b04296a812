"""Subscriptions: recorded locally, kept in sync with Stripe by its webhooks when it is used.

What each of Stripe's subscription statuses means here is one table, `STATES`, read by the
billing endpoint, the Stripe webhook, the trial, the drip and the churn report (the README shows
the same table):

| status               | pays | announces | live | meaning here                                   |
|----------------------|------|-----------|------|------------------------------------------------|
| `active`             | yes  | yes       | yes  | paid: the plan is the subscription's           |
| `trialing`           | yes  | yes       | yes  | Stripe's own trial, card on file: as paid      |
| `past_due`           | yes  | no        | yes  | a renewal failed, Stripe retries: plan stays   |
| `incomplete`         | no   | no        | yes  | checkout started, not paid: nothing changes    |
| `incomplete_expired` | no   | no        | no   | checkout abandoned: the trial runs on          |
| `unpaid`             | no   | no        | yes  | Stripe stopped retrying: takes its plan back   |
| `paused`             | no   | no        | yes  | Stripe trial ended without a card: likewise    |
| `canceled`           | no   | no        | no   | ended: takes back the plan it gave             |

- pays: the user is a paying customer (the trial's checks and downgrade, the day-7 upgrade offer
  and the churn report treat them as converted); the subscription's plan is the user's.
- announces: `billing/subscription.created` is sent, once per subscription (event id
  `subscription-created-{subscription id}`), the first time it is in such a state; that event
  cancels the user's running trial. A checkout that never completes announces nothing.
- live: blocks a second subscription (409); a subscription that is not live never changes again.
- A subscription takes back only what it gave: leaving `pays` returns the user to the plan of
  another paying subscription, or `free`, only if it had paid (`activated_at` is set). So an
  abandoned or cancelled checkout leaves a running trial's plan alone."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


@dataclass(frozen=True)
class SubscriptionState:
    pays: bool
    announces: bool
    live: bool


STATES: dict[str, SubscriptionState] = {
    "active": SubscriptionState(pays=True, announces=True, live=True),
    "trialing": SubscriptionState(pays=True, announces=True, live=True),
    "past_due": SubscriptionState(pays=True, announces=False, live=True),
    "incomplete": SubscriptionState(pays=False, announces=False, live=True),
    "incomplete_expired": SubscriptionState(pays=False, announces=False, live=False),
    "unpaid": SubscriptionState(pays=False, announces=False, live=True),
    "paused": SubscriptionState(pays=False, announces=False, live=True),
    "canceled": SubscriptionState(pays=False, announces=False, live=False),
}
# A status Stripe adds later is treated as live but neither paying nor announcing: nothing is
# granted on a state we do not understand.
UNKNOWN_STATE = SubscriptionState(pays=False, announces=False, live=True)


def state_of(status: str) -> SubscriptionState:
    return STATES.get(status, UNKNOWN_STATE)


PAYING_STATUSES = tuple(s for s, state in STATES.items() if state.pays)
ANNOUNCING_STATUSES = tuple(s for s, state in STATES.items() if state.announces)
ENDED_STATUSES = tuple(s for s, state in STATES.items() if not state.live)


def subscription_created_event_id(subscription_id: str) -> str:
    """One `billing/subscription.created` per subscription, whichever path sends it first."""
    return f"subscription-created-{subscription_id}"


class Subscription(Base):
    __tablename__ = "subscriptions"

    # Stripe's subscription id when Stripe is used, `sub_local_...` when billing runs offline.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    plan: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(
        String(200), default=None, unique=True
    )
    # The first time it paid (a `pays` status): only then may it take the user's plan back.
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
