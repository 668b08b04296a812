"""A user's last activity: any accepted event that carries their `userId` (the churn report reads
it). Called by the engine for the events it stores, in the same transaction."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from inngest_temporal import Event, utcnow


async def touch_last_active(session: AsyncSession, events: list[Event]) -> None:
    user_ids = {
        str(e.data.user_id) for e in events if isinstance(getattr(e.data, "user_id", None), str)
    }
    if user_ids:
        # Not synchronized with the session's objects: nothing reads them after this.
        await session.execute(
            update(User).where(User.id.in_(user_ids)).values(last_active_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
