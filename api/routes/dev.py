"""Development helpers: read what the product would have sent."""

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import SessionsDep, SettingsDep
from api.errors import not_found
from db.models import OutboxMessage

router = APIRouter(prefix="/api/dev", tags=["dev"])


@router.get("/outbox")
async def outbox(
    sessions: SessionsDep,
    settings: SettingsDep,
    to: str | None = None,
    channel: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    if not settings.is_development:
        raise not_found("the outbox is only served in development")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    async with sessions() as session:
        messages = (await session.scalars(query)).all()
    return [
        {
            "id": m.id,
            "channel": m.channel,
            "to": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "transport": m.transport,
            "providerId": m.provider_id,
            "idempotencyKey": m.idempotency_key,
            "createdAt": m.created_at.isoformat(),
        }
        for m in messages
    ]
