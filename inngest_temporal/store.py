"""The event log: every accepted event, stored in the same transaction as the change that emitted
it, and what routing did with it (one row per event and function, written once).

Its tables have their own metadata, so an application adds them to its migrations without the
engine knowing anything of the application's tables."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from inngest_temporal.db import UtcDateTime, utcnow
from inngest_temporal.events import MAX_NAME_LENGTH


class LogBase(DeclarativeBase):
    pass


metadata = LogBase.metadata


class StoredEvent(LogBase):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), primary_key=True)
    # Only the indexes a query reads: each costs every accepted event a B-tree insert.
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    data: Mapped[Any] = mapped_column(JSON)
    # Optional in the envelope (most events carry no user): NULL, as the migration has it.
    user: Mapped[Any | None] = mapped_column(JSON, nullable=True, default=None)
    ts: Mapped[int] = mapped_column(BigInteger)
    v: Mapped[str | None] = mapped_column(String(MAX_NAME_LENGTH), default=None)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Routing state. Unrouted events are claimed with a lease (several dispatchers may run),
    # and retried from `next_attempt_at` while Temporal is unreachable.
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        # Only the unrouted few, however long the log grows: the dispatcher's poll stays cheap.
        Index(
            "ix_events_unrouted",
            "received_at",
            sqlite_where=routed_at.is_(None),
            postgresql_where=routed_at.is_(None),
        ),
    )

    def payload(self) -> dict[str, Any]:
        """The event as its functions receive it (Inngest's envelope)."""
        return {
            "name": self.name,
            "data": self.data,
            "id": self.id,
            "ts": self.ts,
            "v": self.v,
            "user": self.user,
        }


class EventRoute(LogBase):
    """What one event did to one function: started | running | signalled | cancelled | no-run.
    The primary key makes routing an event to a function happen once, whatever retries."""

    __tablename__ = "event_routes"

    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), primary_key=True)
    function_id: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(1000))
    action: Mapped[str] = mapped_column(String(20))
    routed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# The tables themselves, for Core statements (no ORM session: less work per statement).
events_table = cast(Table, StoredEvent.__table__)
event_routes_table = cast(Table, EventRoute.__table__)
