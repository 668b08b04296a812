"""The verification email: a signed, expiring link to `GET /api/auth/verify`, sent through the
email activities (Resend or the outbox, once per idempotency key)."""

import html
from datetime import datetime, timedelta
from urllib.parse import urlencode

from pydantic import BaseModel
from temporalio import activity

from activities.mail import EmailActivities, EmailMessage, EmailReceipt
from auth.tokens import issue_token

TOKEN_LIFETIME = timedelta(hours=24)


class VerificationEmail(BaseModel):
    user_id: str
    email: str
    name: str
    # From the workflow's clock, so every attempt of the step builds the same link.
    issued_at: datetime
    idempotency_key: str
    reminder: bool = False


class VerificationActivities:
    def __init__(self, email: EmailActivities, secret_key: str, public_base_url: str) -> None:
        self._email = email
        self._secret_key = secret_key
        self._base_url = public_base_url.rstrip("/")

    def verification_link(self, user_id: str, issued_at: datetime) -> str:
        token = issue_token(
            self._secret_key, "email-verification", user_id, issued_at + TOKEN_LIFETIME
        )
        return f"{self._base_url}/api/auth/verify?{urlencode({'token': token})}"

    @activity.defn
    async def send_verification_email(self, request: VerificationEmail) -> EmailReceipt:
        link = html.escape(self.verification_link(request.user_id, request.issued_at))
        name = html.escape(request.name)
        hours = int(TOKEN_LIFETIME.total_seconds() // 3600)
        if request.reminder:
            subject = "Reminder: please verify your email"
            intro = f"<p>Hi {name}, you have not verified your email yet.</p>"
        else:
            subject = "Verify your email"
            intro = f"<p>Hi {name}, please confirm this is your email address.</p>"
        body = (
            f"{intro}\n"
            f'<p><a href="{link}">Verify my email</a></p>\n'
            f"<p>The link is valid for {hours} hours.</p>"
        )
        return await self._email.send_email(
            EmailMessage(
                to=request.email,
                subject=subject,
                html=body,
                idempotency_key=request.idempotency_key,
            )
        )
