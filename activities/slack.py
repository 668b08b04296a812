"""Team notifications: a Slack incoming webhook when SLACK_WEBHOOK_URL is set, else the outbox."""

import logging

import httpx
from pydantic import BaseModel
from temporalio import activity

from activities.outbox import OutboxEntry, OutboxStore
from inngest_temporal import NonRetriableError, Sessions

log = logging.getLogger("pipelines.slack")


class SlackMessage(BaseModel):
    text: str
    idempotency_key: str


class SlackReceipt(BaseModel):
    transport: str  # slack | outbox
    outbox_id: int


class SlackActivities:
    def __init__(
        self, sessions: Sessions, webhook_url: str | None, http: httpx.AsyncClient
    ) -> None:
        self._outbox = OutboxStore(sessions)
        self._webhook_url = webhook_url
        self._http = http

    @activity.defn
    async def post_to_slack(self, message: SlackMessage) -> SlackReceipt:
        sent = await self._outbox.find(message.idempotency_key)
        if sent is None:
            transport = "outbox"
            if self._webhook_url:
                await self._post(message)
                transport = "slack"
            else:
                log.info("slack message %s kept in the outbox", message.idempotency_key)
            sent = await self._outbox.record(
                OutboxEntry(
                    idempotency_key=message.idempotency_key,
                    channel="slack",
                    recipient=self._webhook_url or "slack",
                    body=message.text,
                    transport=transport,
                )
            )
        return SlackReceipt(transport=sent.transport, outbox_id=sent.id)

    async def _post(self, message: SlackMessage) -> None:
        assert self._webhook_url is not None
        response = await self._http.post(self._webhook_url, json={"text": message.text})
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise NonRetriableError(f"Slack refused the message ({response.status_code})")
        response.raise_for_status()
