"""CRM sync: POST the user to the provider's webhook (settings.crm_webhook_urls), or record the push
in the outbox when no URL is configured for that provider.

Every push carries its step's idempotency key (Idempotency-Key header), so a retry after a lost
answer is recognised by the CRM; and once the push is recorded in the outbox, a later attempt
returns that record instead of posting again."""

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel
from sqlalchemy import update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.outbox import OutboxEntry, OutboxStore, SentMessage
from db.models import CrmPush
from inngest_temporal import CamelModel, NonRetriableError, RetryAfterError, Sessions, insert_ignore

log = logging.getLogger("pipelines.crm")
T = TypeVar("T")
MAX_RECORD_ID = 200  # outbox.provider_id


class CrmContact(CamelModel):
    """What the CRM receives (camelCase JSON, like the events)."""

    user_id: str
    email: str
    name: str
    plan: str


class CrmPushRequest(BaseModel):
    provider: str
    contact: CrmContact
    idempotency_key: str


class CrmReceipt(BaseModel):
    provider: str
    transport: str  # webhook | outbox
    crm_record_id: str | None
    outbox_id: int


class CrmActivities:
    def __init__(
        self, sessions: Sessions, webhook_urls: dict[str, str], http: httpx.AsyncClient
    ) -> None:
        self._sessions = sessions
        self._outbox = OutboxStore(sessions)
        self._webhook_urls = webhook_urls
        self._http = http

    @activity.defn
    async def push_to_crm(self, push: CrmPushRequest) -> CrmReceipt:
        # Heartbeat through the whole attempt, database writes included: under write contention
        # a slow attempt on a live worker must not be taken for one on a dead worker.
        return await _heartbeating(self._push(push))

    async def _push(self, push: CrmPushRequest) -> CrmReceipt:
        sent = await self._outbox.find(push.idempotency_key)
        if sent is not None:
            # Pushed by an attempt that died before answering: close its record, push nothing.
            await self._finish(push, status="synced", response_status=None)
            return _receipt(push.provider, sent)
        url = self._webhook_urls.get(push.provider)
        transport = "webhook" if url else "outbox"
        await self._begin_attempt(push, transport)
        body = push.contact.model_dump_json()
        response = None
        if url:
            response = await self._post(push, url, body)
        else:
            log.info("crm %s (outbox): %s", push.provider, push.contact.user_id)
        sent = await self._outbox.record(
            OutboxEntry(
                idempotency_key=push.idempotency_key,
                channel="crm",
                recipient=url or push.provider,
                subject=f"{push.provider}: {push.contact.email}",
                body=body,
                transport=transport,
                provider_id=None if response is None else _record_id(response),
            )
        )
        status = None if response is None else response.status_code
        await self._finish(push, status="synced", response_status=status)
        return _receipt(push.provider, sent)

    async def _post(self, push: CrmPushRequest, url: str, body: str) -> httpx.Response:
        """The CRM's 2xx answer; otherwise the step fails now (refused) or is retried (busy)."""
        headers = {"Idempotency-Key": push.idempotency_key, "Content-Type": "application/json"}
        response = await self._http.post(url, content=body, headers=headers)
        status = response.status_code
        if status == 429 or status >= 500:
            message = f"CRM '{push.provider}' answered {status}"
            delay = _retry_after(response)
            if delay is not None:
                raise RetryAfterError(message, delay)
            raise ApplicationError(message, type="CrmUnavailable")
        if not response.is_success:
            # A 4xx (or a redirect: a wrong URL) will come back the same: fail now, and say so.
            await self._finish(push, status="refused", response_status=status)
            raise NonRetriableError(
                f"CRM '{push.provider}' refused user {push.contact.user_id} ({status}): "
                f"{response.text[:200]}"
            )
        return response

    async def _begin_attempt(self, push: CrmPushRequest, transport: str) -> None:
        async with self._sessions() as session:
            await session.execute(
                insert_ignore(session, CrmPush),
                {
                    "idempotency_key": push.idempotency_key,
                    "user_id": push.contact.user_id,
                    "provider": push.provider,
                    "transport": transport,
                    "status": "pending",
                    "attempts": 0,
                    "started_at": datetime.now(UTC),
                },
            )
            await session.execute(
                update(CrmPush)
                .where(CrmPush.idempotency_key == push.idempotency_key)
                .values(attempts=CrmPush.attempts + 1, transport=transport)
            )
            await session.commit()

    async def _finish(self, push: CrmPushRequest, status: str, response_status: int | None) -> None:
        async with self._sessions() as session:
            await session.execute(
                update(CrmPush)
                .where(CrmPush.idempotency_key == push.idempotency_key, CrmPush.status == "pending")
                .values(
                    status=status, response_status=response_status, finished_at=datetime.now(UTC)
                )
            )
            await session.commit()


async def _heartbeating(call: Awaitable[T]) -> T:
    """Await `call`, heartbeating meanwhile: if this worker dies mid-request, the step is retried
    elsewhere after the heartbeat timeout rather than after the whole step timeout."""
    task = asyncio.ensure_future(call)
    timeout = activity.info().heartbeat_timeout
    interval = timeout.total_seconds() / 3 if timeout else 1.0
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=interval)
            activity.heartbeat()
        return task.result()
    finally:
        task.cancel()  # no-op once done; stops the request if the step is cancelled


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - datetime.now(UTC), timedelta(0))


def _record_id(response: httpx.Response) -> str | None:
    """The CRM's id for the contact, when it answers with one ({"id": ...}) that fits the outbox's
    provider_id column: a longer one is dropped, as PostgreSQL would refuse to record the push."""
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    record_id = payload.get("id") if isinstance(payload, dict) else None
    text = None if record_id is None else str(record_id)
    if text is not None and len(text) > MAX_RECORD_ID:
        log.warning("CRM record id of %d characters not kept", len(text))
        return None
    return text


def _receipt(provider: str, sent: SentMessage) -> CrmReceipt:
    return CrmReceipt(
        provider=provider,
        transport=sent.transport,
        crm_record_id=sent.provider_id,
        outbox_id=sent.id,
    )
