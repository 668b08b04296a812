"""The record of every message the product sends, keyed by its idempotency key.

Providers (Resend, Slack, a CRM) are called at most once per key from our side: a step that is
retried after the message was recorded returns the recorded message instead of sending again."""

from pydantic import BaseModel
from sqlalchemy import select

from db.models import OutboxMessage
from inngest_temporal import Sessions, insert_ignore


class OutboxEntry(BaseModel):
    idempotency_key: str
    channel: str  # email | slack | crm
    recipient: str
    subject: str = ""
    body: str
    transport: str  # resend | slack | webhook | outbox
    provider_id: str | None = None


class SentMessage(BaseModel):
    id: int
    channel: str
    recipient: str
    transport: str
    provider_id: str | None


class OutboxStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def find(self, idempotency_key: str) -> SentMessage | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
            )
        return None if row is None else _sent(row)

    async def record(self, entry: OutboxEntry) -> SentMessage:
        async with self._sessions() as session:
            await session.execute(insert_ignore(session, OutboxMessage), entry.model_dump())
            await session.commit()
            row = (
                await session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.idempotency_key == entry.idempotency_key
                    )
                )
            ).one()
        return _sent(row)


def _sent(row: OutboxMessage) -> SentMessage:
    return SentMessage(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        transport=row.transport,
        provider_id=row.provider_id,
    )
