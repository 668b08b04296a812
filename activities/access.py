"""Our database, accounts and billing side: who a user is, whether they pay, and what they may use.

The trial reads the subscription and downgrades; verification activates full access."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from db.models import AnalyticsEvent, Subscription, User
from db.models.billing import PAYING_STATUSES
from inngest_temporal import NonRetriableError, Sessions, insert_ignore, local_activity


class UserRef(BaseModel):
    user_id: str


class UserContact(BaseModel):
    user_id: str
    email: str
    name: str
    plan: str


class SubscriptionCheck(BaseModel):
    active: bool
    subscription_id: str | None = None
    plan: str | None = None


class Downgrade(BaseModel):
    user_id: str
    # Recorded with the change, so a retried step finds its own earlier change.
    idempotency_key: str


class DowngradeResult(BaseModel):
    downgraded: bool
    plan: str


class Activation(BaseModel):
    user_id: str
    verified_at: datetime


class AccessGranted(BaseModel):
    full_access: bool
    email_verified_at: datetime


class AccessActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @local_activity
    @activity.defn
    async def load_user_contact(self, ref: UserRef) -> UserContact:
        async with self._sessions() as session:
            user = await session.get(User, ref.user_id)
        if user is None:
            raise NonRetriableError(f"user {ref.user_id} does not exist")
        return UserContact(user_id=user.id, email=user.email, name=user.name, plan=user.plan)

    @local_activity
    @activity.defn
    async def check_subscription(self, ref: UserRef) -> SubscriptionCheck:
        async with self._sessions() as session:
            found = await paying_subscription(session, ref.user_id)
        if found is None:
            return SubscriptionCheck(active=False)
        return SubscriptionCheck(active=True, subscription_id=found.id, plan=found.plan)

    @local_activity
    @activity.defn
    async def downgrade_to_free(self, request: Downgrade) -> DowngradeResult:
        """Moves the user to the free plan once, recording the change under the step's key.

        A subscription that appeared since check-subscription wins: the plan is left alone."""
        async with self._sessions() as session:
            user = await session.get(User, request.user_id)
            if user is None:
                raise NonRetriableError(f"user {request.user_id} does not exist")
            done_before = await session.scalar(
                select(AnalyticsEvent.id).where(
                    AnalyticsEvent.idempotency_key == request.idempotency_key
                )
            )
            if done_before is None:
                if await paying_subscription(session, request.user_id) is not None:
                    return DowngradeResult(downgraded=False, plan=user.plan)
                await session.execute(
                    insert_ignore(session, AnalyticsEvent),
                    {
                        "idempotency_key": request.idempotency_key,
                        "user_id": request.user_id,
                        "name": "plan_downgraded",
                        "properties": {"from": user.plan, "to": "free", "reason": "trial_ended"},
                    },
                )
                await session.execute(
                    update(User).where(User.id == request.user_id).values(plan="free")
                )
                await session.commit()
        return DowngradeResult(downgraded=True, plan="free")

    @local_activity
    @activity.defn
    async def activate_full_access(self, activation: Activation) -> AccessGranted:
        async with self._sessions() as session:
            user = await session.get(User, activation.user_id)
            if user is None:
                raise NonRetriableError(f"user {activation.user_id} does not exist")
            user.full_access = True
            # The first verification time stays: a repeated step does not move it.
            verified_at = user.email_verified_at or activation.verified_at
            user.email_verified_at = verified_at
            await session.commit()
        return AccessGranted(full_access=True, email_verified_at=verified_at)


async def paying_subscription(session: AsyncSession, user_id: str) -> Subscription | None:
    """The user's latest subscription that pays (db/models/billing.py), if any."""
    found: Subscription | None = await session.scalar(
        select(Subscription)
        .where(Subscription.user_id == user_id, Subscription.status.in_(PAYING_STATUSES))
        .order_by(Subscription.created_at.desc())
        .limit(1)
    )
    return found
