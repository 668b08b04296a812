"""Development helpers: read what the product would have sent."""

from datetime import datetime

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, NotFound
from db.models import OutboxMessage
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/dev", tags=["dev"], responses=ERROR_RESPONSES)


class OutboxView(CamelModel):
    id: int
    channel: str
    to: str
    subject: str
    body: str
    transport: str
    provider_id: str | None
    idempotency_key: str
    created_at: datetime


@router.get("/outbox", response_model=list[OutboxView])
async def outbox(
    sessions: SessionsDep,
    settings: SettingsDep,
    to: str | None = Query(default=None, max_length=500),
    channel: str | None = Query(default=None, max_length=20),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[OutboxView]:
    if not settings.is_development:
        raise NotFound("the outbox is only served in development")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    async with sessions() as session:
        messages = (await session.scalars(query)).all()
    return [
        OutboxView(
            id=m.id,
            channel=m.channel,
            to=m.recipient,
            subject=m.subject,
            body=m.body,
            transport=m.transport,
            provider_id=m.provider_id,
            idempotency_key=m.idempotency_key,
            created_at=m.created_at,
        )
        for m in messages
    ]
