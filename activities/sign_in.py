"""The sign-in email: a one-time link to `GET /api/auth/login/callback` that returns a fresh
access token, signed with SECRET_KEY and valid for SIGN_IN_LINK_MINUTES."""

import html
from datetime import datetime, timedelta
from urllib.parse import urlencode

from pydantic import BaseModel
from temporalio import activity

from activities.mail import EmailActivities, EmailMessage, EmailReceipt
from auth.tokens import issue_token


class SignInEmail(BaseModel):
    user_id: str
    email: str
    # The request's event id: the link's id, used once.
    link_id: str
    # From the workflow's clock, so every attempt of the step builds the same link.
    issued_at: datetime
    idempotency_key: str


class SignInActivities:
    def __init__(
        self, email: EmailActivities, secret_key: str, public_base_url: str, lifetime: timedelta
    ) -> None:
        self._email = email
        self._secret_key = secret_key
        self._base_url = public_base_url.rstrip("/")
        self._lifetime = lifetime

    @activity.defn
    async def send_sign_in_email(self, request: SignInEmail) -> EmailReceipt:
        token = issue_token(
            self._secret_key,
            "sign-in",
            request.user_id,
            request.issued_at + self._lifetime,
            token_id=request.link_id,
        )
        link = html.escape(
            f"{self._base_url}/api/auth/login/callback?{urlencode({'token': token})}"
        )
        minutes = int(self._lifetime.total_seconds() // 60)
        return await self._email.send_email(
            EmailMessage(
                to=request.email,
                subject="Your sign-in link",
                html=(
                    f'<p><a href="{link}">Sign in</a></p>\n'
                    f"<p>The link works once, for {minutes} minutes. If you did not ask for it, "
                    "ignore this email.</p>"
                ),
                idempotency_key=request.idempotency_key,
            )
        )
