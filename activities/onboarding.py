"""The onboarding drip's emails, and the flag that ends onboarding. Each email is one step: decide
from the user's current record whether it still applies, then send it through the email
activities (once per idempotency key)."""

from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import commerce_emails
from activities.access import UserRef, paying_subscription
from activities.mail import EmailActivities
from db.models import User
from inngest_temporal import CamelModel, Sessions, local_activity

DripTemplate = Literal["welcome", "day-1-tips", "day-3-case-study", "day-7-upgrade"]


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


class OnboardingState(CamelModel):
    user_id: str
    onboarding_completed: bool


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

    @local_activity
    @activity.defn
    async def mark_onboarding_completed(self, ref: UserRef) -> OnboardingState:
        async with self._sessions() as session:
            found = await session.execute(
                update(User)
                .where(User.id == ref.user_id)
                .values(onboarding_completed=True)
                .returning(User.id)
            )
            if found.first() is None:
                # Perhaps not stored yet (the event raced the signup): retried, then reported.
                raise ApplicationError(f"user {ref.user_id} does not exist (yet)")
            await session.commit()
        return OnboardingState(user_id=ref.user_id, onboarding_completed=True)


async def _skip_reason(session: AsyncSession, drip: DripEmail) -> str | None:
    """Tips are for users still onboarding; the upgrade offer is for users without a paid
    subscription (a user who signed up on a paid plan and is still in its trial gets it). A user
    the app never stored here gets every email."""
    if drip.template == "day-1-tips":
        completed = await session.scalar(
            select(User.onboarding_completed).where(User.id == drip.user_id)
        )
        return "onboarding completed" if completed else None
    if drip.template == "day-7-upgrade":
        paying = await paying_subscription(session, drip.user_id)
        return f"already paying for {paying.plan}" if paying is not None else None
    return None
