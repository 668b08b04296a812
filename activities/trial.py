"""The trial's reminder emails. Each is one step that first reads the subscription it is about to
contradict: a user who pays (active, trialing or past_due: db/models/billing.py) is not told their
trial is halfway or ending, whenever their subscription arrived (before the trial run existed,
or without its event reaching the run)."""

import html
from typing import Literal

from temporalio import activity

from activities.access import paying_subscription
from activities.mail import EmailActivities, EmailMessage
from inngest_temporal import CamelModel, Sessions

TrialNotice = Literal["mid-trial", "trial-ending"]

NOTICES: dict[str, tuple[str, str]] = {
    "mid-trial": (
        "You're halfway through your trial!",
        "Halfway in: a good moment to try the features you have not explored yet.",
    ),
    "trial-ending": (
        "Your trial ends tomorrow!",
        "Subscribe today to keep your plan and everything you have set up.",
    ),
}


class TrialEmail(CamelModel):
    user_id: str
    email: str
    name: str
    notice: TrialNotice
    idempotency_key: str


class TrialEmailResult(CamelModel):
    sent: bool
    skipped_because: str | None = None
    message_id: str | None = None


class TrialActivities:
    def __init__(self, sessions: Sessions, email: EmailActivities) -> None:
        self._sessions = sessions
        self._email = email

    @activity.defn
    async def send_trial_email(self, notice: TrialEmail) -> TrialEmailResult:
        async with self._sessions() as session:
            paying = await paying_subscription(session, notice.user_id)
        if paying is not None:
            return TrialEmailResult(
                sent=False,
                skipped_because=f"already paying: {paying.plan} ({paying.status}, {paying.id})",
            )
        subject, text = NOTICES[notice.notice]
        body = f"<p>Hi {html.escape(notice.name)},</p>\n<p>{html.escape(text)}</p>"
        receipt = await self._email.send_email(
            EmailMessage(
                to=notice.email, subject=subject, html=body, idempotency_key=notice.idempotency_key
            )
        )
        return TrialEmailResult(sent=True, message_id=receipt.message_id)
