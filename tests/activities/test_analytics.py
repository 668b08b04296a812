"""Analytics rows are recorded once per idempotency key."""

from sqlalchemy import func, select

from activities.analytics import AnalyticsActivities, TrackInput
from db.models import AnalyticsEvent
from inngest_temporal import Sessions
from tests.support import unique


async def test_tracking_twice_with_one_key_records_once(sessions: Sessions) -> None:
    analytics = AnalyticsActivities(sessions)
    event = TrackInput(user_id="u1", name="welcome_email_sent", idempotency_key=unique("track"))
    assert await analytics.track(event) is True
    assert await analytics.track(event) is False
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(AnalyticsEvent.idempotency_key == event.idempotency_key)
        )
    assert count == 1
