"""Product analytics, recorded in our own database (one row per tracked action, once)."""

from typing import Any

from pydantic import BaseModel
from temporalio import activity

from db.engine import Sessions
from db.models import AnalyticsEvent
from db.upsert import insert_ignore


class TrackInput(BaseModel):
    user_id: str
    name: str
    properties: dict[str, Any] = {}
    idempotency_key: str


class AnalyticsActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @activity.defn
    async def track(self, event: TrackInput) -> bool:
        async with self._sessions() as session:
            result = await session.execute(
                insert_ignore(session, AnalyticsEvent),
                {
                    "idempotency_key": event.idempotency_key,
                    "user_id": event.user_id,
                    "name": event.name,
                    "properties": event.properties,
                },
            )
            await session.commit()
        return bool(getattr(result, "rowcount", 0))
