"""Our record of subscriptions, written by the billing endpoint and the Stripe webhook, and the
user's plan that follows it (a paying subscription sets it, an ended one returns it to free)."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import Sessions
from db.models import Subscription, User
from db.models.billing import ENDED_STATUSES, PAYING_STATUSES
from db.upsert import insert_ignore


@dataclass(frozen=True)
class NewSubscription:
    id: str
    user_id: str
    plan: str
    status: str
    stripe_customer_id: str | None = None


class SubscriptionRecords:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def of_user(self, user_id: str) -> list[Subscription]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Subscription)
                .where(Subscription.user_id == user_id)
                .order_by(Subscription.created_at)
            )
            return list(rows)

    async def user_exists(self, user_id: str) -> bool:
        async with self._sessions() as session:
            return await session.get(User, user_id) is not None

    async def user_of_customer(self, stripe_customer_id: str) -> str | None:
        async with self._sessions() as session:
            user_id: str | None = await session.scalar(
                select(Subscription.user_id)
                .where(Subscription.stripe_customer_id == stripe_customer_id)
                .limit(1)
            )
            return user_id

    async def record(self, new: NewSubscription) -> Subscription:
        """Idempotent: the endpoint and the webhook may both record the same subscription."""
        async with self._sessions() as session:
            await session.execute(
                insert_ignore(session, Subscription),
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
                await session.scalars(select(Subscription).where(Subscription.id == new.id))
            ).one()
            await _follow_plan(session, row)
            await session.commit()
            return row

    async def set_status(self, subscription_id: str, status: str) -> Subscription | None:
        """Stripe may deliver events out of order: an ended subscription stays ended."""
        async with self._sessions() as session:
            await session.execute(
                update(Subscription)
                .where(
                    Subscription.id == subscription_id,
                    Subscription.status.not_in(ENDED_STATUSES),
                )
                .values(status=status)
            )
            row = await session.get(Subscription, subscription_id)
            if row is not None:
                await _follow_plan(session, row)
            await session.commit()
            return row

    async def forget(self, subscription_id: str, previous_plan: str) -> None:
        """Undo a local record whose event could not be sent (nothing half-done)."""
        async with self._sessions() as session:
            row = await session.get(Subscription, subscription_id)
            if row is not None:
                await session.delete(row)
                await session.execute(
                    update(User).where(User.id == row.user_id).values(plan=previous_plan)
                )
            await session.commit()


def live(subscriptions: list[Subscription]) -> Subscription | None:
    """The subscription that blocks a new one: any that has not ended."""
    return next((s for s in subscriptions if s.status not in ENDED_STATUSES), None)


def _is_local(subscription_id: str) -> bool:
    return subscription_id.startswith("sub_local_")


async def _follow_plan(session: AsyncSession, row: Subscription) -> None:
    if row.status in PAYING_STATUSES:
        plan = row.plan
    elif row.status in ENDED_STATUSES:
        other = await session.scalar(
            select(Subscription.plan).where(
                Subscription.user_id == row.user_id,
                Subscription.id != row.id,
                Subscription.status.in_(PAYING_STATUSES),
            )
        )
        plan = other or "free"
    else:
        return  # incomplete, unpaid, paused: the plan waits for payment
    await session.execute(update(User).where(User.id == row.user_id).values(plan=plan))
