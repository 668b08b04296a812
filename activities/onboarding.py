"""The onboarding drip's emails. Each is one step: decide from the user's current record whether
it still applies, then send it through the email activities (once per idempotency key)."""

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities import commerce_emails
from activities.mail import EmailActivities
from db.models import Subscription, User
from db.models.billing import PAYING_STATUSES
from inngest_temporal import CamelModel, Sessions

DripTemplate = Literal["welcome", "day-1-tips", "day-3-case-study", "day-7-upgrade"]
PAID_PLANS = ("pro", "enterprise")


class DripEmail(CamelModel):
    user_id: str
    email: str
    name: str
    template: DripTemplate
    idempotency_key: str


class DripResult(CamelModel):
    sent: bool
    skipped_because: str | None = None
    message_id: str | None = None


class OnboardingActivities:
    def __init__(self, sessions: Sessions, email: EmailActivities) -> None:
        self._sessions = sessions
        self._email = email

    @activity.defn
    async def send_onboarding_email(self, drip: DripEmail) -> DripResult:
        async with self._sessions() as session:
            skip = await _skip_reason(session, drip)
        if skip is not None:
            return DripResult(sent=False, skipped_because=skip)
        rendered = commerce_emails.onboarding(drip.template, drip.name)
        receipt = await self._email.send_email(rendered.message(drip.email, drip.idempotency_key))
        return DripResult(sent=True, message_id=receipt.message_id)


async def _skip_reason(session: AsyncSession, drip: DripEmail) -> str | None:
    """Tips are for users still onboarding; the upgrade offer is for users not yet paying. A user
    the app never stored here gets every email."""
    if drip.template == "day-1-tips":
        completed = await session.scalar(
            select(User.onboarding_completed).where(User.id == drip.user_id)
        )
        return "onboarding completed" if completed else None
    if drip.template == "day-7-upgrade":
        plan = await session.scalar(select(User.plan).where(User.id == drip.user_id))
        paying = await session.scalar(
            select(Subscription.plan)
            .where(Subscription.user_id == drip.user_id, Subscription.status.in_(PAYING_STATUSES))
            .limit(1)
        )
        on_plan = plan if plan in PAID_PLANS else paying
        return f"already on {on_plan}" if on_plan else None
    return None
