"""Our record of subscriptions, written by the billing endpoint and the Stripe webhook, and the
user's plan that follows it, as the table of states in db/models/billing.py says: a paying
subscription sets it; one that stops paying takes back only what it gave.

Works inside the caller's transaction, so a record and the event announcing it commit together."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Subscription, User
from db.models.billing import (
    ENDED_STATUSES,
    PAYING_STATUSES,
    state_of,
    subscription_created_event_id,
)
from events.billing import SubscriptionCreated, SubscriptionCreatedData
from inngest_temporal import insert_ignore, utcnow


@dataclass(frozen=True)
class NewSubscription:
    id: str
    user_id: str
    plan: str
    status: str
    stripe_customer_id: str | None = None


class SubscriptionRecords:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_user(self, user_id: str) -> list[Subscription]:
        rows = await self._session.scalars(
            select(Subscription)
            .where(Subscription.user_id == user_id)
            .order_by(Subscription.created_at)
        )
        return list(rows)

    async def get(self, subscription_id: str) -> Subscription | None:
        return await self._session.get(Subscription, subscription_id)

    async def user_exists(self, user_id: str) -> bool:
        return await self._session.get(User, user_id) is not None

    async def user_of_customer(self, stripe_customer_id: str) -> str | None:
        user_id: str | None = await self._session.scalar(
            select(Subscription.user_id)
            .where(Subscription.stripe_customer_id == stripe_customer_id)
            .limit(1)
        )
        return user_id

    async def record(self, new: NewSubscription) -> Subscription:
        """Idempotent: the endpoint and the webhook may both record the same subscription."""
        await self._session.execute(
            insert_ignore(self._session, Subscription),
            {
                "id": new.id,
                "user_id": new.user_id,
                "plan": new.plan,
                "status": new.status,
                "stripe_customer_id": new.stripe_customer_id,
                "stripe_subscription_id": None if _is_local(new.id) else new.id,
            },
        )
        row = (
            await self._session.scalars(select(Subscription).where(Subscription.id == new.id))
        ).one()
        await _follow_status(self._session, row)
        return row

    async def set_status(self, subscription_id: str, status: str) -> Subscription | None:
        """Stripe may deliver events out of order: an ended subscription stays ended."""
        await self._session.execute(
            update(Subscription)
            .where(
                Subscription.id == subscription_id,
                Subscription.status.not_in(ENDED_STATUSES),
            )
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        row = await self._session.get(Subscription, subscription_id, populate_existing=True)
        if row is not None:
            await _follow_status(self._session, row)
        return row


def announcement(row: Subscription, ts: int = 0) -> SubscriptionCreated | None:
    """`billing/subscription.created` for a subscription that pays or trials (Stripe's `active`,
    `trialing`), with an id of its own: however many times and by whichever path it is sent
    (the endpoint, Stripe's created or updated webhooks, redeliveries), it is stored once."""
    if not state_of(row.status).announces:
        return None
    return SubscriptionCreated(
        id=subscription_created_event_id(row.id),
        ts=ts,
        data=SubscriptionCreatedData.model_validate(
            {"user_id": row.user_id, "subscription_id": row.id, "plan": row.plan}
        ),
    )


def live(subscriptions: list[Subscription]) -> Subscription | None:
    """The subscription that blocks a new one: any that has not ended."""
    return next((s for s in subscriptions if s.status not in ENDED_STATUSES), None)


def _is_local(subscription_id: str) -> bool:
    return subscription_id.startswith("sub_local_")


async def _follow_status(session: AsyncSession, row: Subscription) -> None:
    """The user's plan, as the subscription's state says (db/models/billing.py)."""
    if state_of(row.status).pays:
        if row.activated_at is None:
            row.activated_at = utcnow()
        plan = row.plan
    elif row.activated_at is not None:
        # It had paid and no longer does: the plan of another paying subscription, or free.
        other = await session.scalar(
            select(Subscription.plan).where(
                Subscription.user_id == row.user_id,
                Subscription.id != row.id,
                Subscription.status.in_(PAYING_STATUSES),
            )
        )
        plan = other or "free"
    else:
        return  # never paid (a checkout started or abandoned): nothing to give or take back
    await session.execute(update(User).where(User.id == row.user_id).values(plan=plan))
