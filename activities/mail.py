"""Email: through Resend when RESEND_API_KEY is set, otherwise into the outbox a developer reads.

Either way the message is recorded in the outbox table under its idempotency key, so a retried
step never sends twice, and Resend also receives the key (Idempotency-Key header)."""

import asyncio
import html
import logging

import resend
from pydantic import BaseModel
from sqlalchemy import select
from temporalio import activity

from db.engine import Sessions
from db.models import OutboxMessage
from db.upsert import insert_ignore
from workflows.errors import NonRetriableError

log = logging.getLogger("pipelines.email")


class EmailMessage(BaseModel):
    to: str
    subject: str
    html: str
    idempotency_key: str


class EmailReceipt(BaseModel):
    message_id: str
    to: str
    status: str  # sent | outbox
    transport: str  # resend | outbox


class WelcomeTemplate(BaseModel):
    name: str
    plan: str


class EmailActivities:
    def __init__(
        self, sessions: Sessions, api_key: str | None, api_url: str, sender: str
    ) -> None:
        self._sessions = sessions
        self._api_key = api_key
        self._sender = sender
        if api_key:
            resend.api_key = api_key
            resend.api_url = api_url

    @activity.defn
    async def render_welcome(self, template: WelcomeTemplate) -> str:
        name, plan = html.escape(template.name), html.escape(template.plan)
        return (
            f"<h1>Welcome to SaaS App, {name}!</h1>\n"
            f"<p>You are on the <strong>{plan}</strong> plan.</p>\n"
            "<p>Your 14-day trial starts now. Explore all features!</p>"
        )

    @activity.defn
    async def send_email(self, message: EmailMessage) -> EmailReceipt:
        async with self._sessions() as session:
            sent = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == message.idempotency_key)
            )
        if sent is not None:
            return _receipt(sent)
        transport, provider_id = "outbox", None
        if self._api_key:
            transport, provider_id = "resend", await self._send_with_resend(message)
        else:
            log.info("email to %s (outbox): %s", message.to, message.subject)
        async with self._sessions() as session:
            await session.execute(
                insert_ignore(session, OutboxMessage),
                {
                    "idempotency_key": message.idempotency_key,
                    "channel": "email",
                    "recipient": message.to,
                    "subject": message.subject,
                    "body": message.html,
                    "transport": transport,
                    "provider_id": provider_id,
                },
            )
            await session.commit()
            row = (
                await session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.idempotency_key == message.idempotency_key
                    )
                )
            ).one()
        return _receipt(row)

    async def _send_with_resend(self, message: EmailMessage) -> str:
        params: resend.Emails.SendParams = {
            "from": self._sender,
            "to": [message.to],
            "subject": message.subject,
            "html": message.html,
        }
        options: resend.Emails.SendOptions = {"idempotency_key": message.idempotency_key}
        try:
            response = await asyncio.to_thread(resend.Emails.send, params, options)
        except resend.exceptions.ResendError as err:
            status = int(err.code) if str(err.code).isdigit() else 0
            if 400 <= status < 500 and status != 429:
                # A request Resend refuses will be refused again: fail the step now.
                raise NonRetriableError(f"Resend refused the email ({status}): {err}") from err
            raise
        return str(response["id"])


def _receipt(row: OutboxMessage) -> EmailReceipt:
    return EmailReceipt(
        message_id=row.provider_id or f"outbox_{row.id}",
        to=row.recipient,
        status="sent" if row.transport == "resend" else "outbox",
        transport=row.transport,
    )
