"""Email: through Resend when RESEND_API_KEY is set, otherwise into the outbox a developer reads.

Either way the message is recorded in the outbox under its idempotency key, so a retried step
never sends twice, and Resend also receives the key (Idempotency-Key header)."""

import asyncio
import html
import logging

import resend
from pydantic import BaseModel
from temporalio import activity

from activities.outbox import OutboxEntry, OutboxStore, SentMessage
from inngest_temporal import NonRetriableError, Sessions, local_activity

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
    def __init__(self, sessions: Sessions, api_key: str | None, api_url: str, sender: str) -> None:
        self._outbox = OutboxStore(sessions)
        self._api_key = api_key
        self._sender = sender
        if api_key:
            resend.api_key = api_key
            resend.api_url = api_url

    @local_activity
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
        sent = await self._outbox.find(message.idempotency_key)
        if sent is None:
            transport, provider_id = "outbox", None
            if self._api_key:
                transport, provider_id = "resend", await self._send_with_resend(message)
            else:
                # Ids only: subjects and addresses name people.
                log.info("email %s kept in the outbox", message.idempotency_key)
            sent = await self._outbox.record(
                OutboxEntry(
                    idempotency_key=message.idempotency_key,
                    channel="email",
                    recipient=message.to,
                    subject=message.subject,
                    body=message.html,
                    transport=transport,
                    provider_id=provider_id,
                )
            )
        return _receipt(sent)

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


def _receipt(sent: SentMessage) -> EmailReceipt:
    return EmailReceipt(
        message_id=sent.provider_id or f"outbox_{sent.id}",
        to=sent.recipient,
        status="sent" if sent.transport == "resend" else "outbox",
        transport=sent.transport,
    )
