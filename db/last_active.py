"""A user's last activity: any accepted event that carries their `userId` (the churn report reads
it). Called by the engine for the events it stores, in the same transaction."""

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from inngest_temporal import Event, utcnow

FRESH = timedelta(minutes=1)


async def touch_last_active(session: AsyncSession, events: list[Event]) -> None:
    now = utcnow()
    user_ids = {
        str(e.data.user_id) for e in events if isinstance(getattr(e.data, "user_id", None), str)
    }
    # A user this transaction holds, stamped under a minute ago (a signup's new user, flushed or
    # not yet), needs no statement of its own.
    for written in (*session.new, *session.identity_map.values()):
        if not isinstance(written, User) or written.last_active_at is None:
            continue
        if now - written.last_active_at < FRESH:
            user_ids.discard(written.id)
    if user_ids:
        # Not synchronized with the session's objects: nothing reads them after this.
        await session.execute(
            update(User).where(User.id.in_(user_ids)).values(last_active_at=now),
            execution_options={"synchronize_session": False},
        )
