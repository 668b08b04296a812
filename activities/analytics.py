"""Product analytics, recorded in our own database (one row per tracked action, once)."""

from typing import Any

from pydantic import BaseModel
from temporalio import activity

from db.models import AnalyticsEvent
from inngest_temporal import Sessions, insert_ignore, local_activity


class TrackInput(BaseModel):
    user_id: str
    name: str
    properties: dict[str, Any] = {}
    idempotency_key: str


class AnalyticsActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @local_activity
    @activity.defn
    async def track(self, event: TrackInput) -> bool:
        """Records the action once; True when this call recorded it, False if already recorded."""
        async with self._sessions() as session:
            inserted = await session.scalar(
                insert_ignore(session, AnalyticsEvent)
                .values(
                    idempotency_key=event.idempotency_key,
                    user_id=event.user_id,
                    name=event.name,
                    properties=event.properties,
                )
                .returning(AnalyticsEvent.id)
            )
            await session.commit()
        return inserted is not None
