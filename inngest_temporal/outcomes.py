"""What routing did, as the event log records it: one row per (event, function) reached, and each
event's state (routed, or due again after a failure). A dispatcher whose loop runs keeps them in
memory for a moment, so that one transaction writes what many requests routed."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from inngest_temporal.db import insert_ignore
from inngest_temporal.store import event_routes_table, events_table

# Built once, run on a connection.
_ROUTED = (
    update(events_table)
    .where(events_table.c.id == bindparam("event"))
    .values(routed_at=bindparam("at"), lease_until=None, last_error=None)
)
_FAILED = (
    update(events_table)
    .where(events_table.c.id == bindparam("event"))
    .values(lease_until=None, next_attempt_at=bindparam("retry_at"), last_error=bindparam("why"))
)


@dataclass
class Outcomes:
    routes: list[dict[str, Any]] = field(default_factory=list)  # EventRoute rows
    routed: dict[str, datetime] = field(default_factory=dict)  # event id -> when
    failed: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # -> (next try, why)

    def __bool__(self) -> bool:
        return bool(self.routes or self.routed or self.failed)

    def add(self, other: "Outcomes") -> None:
        self.routes += other.routes
        self.routed |= other.routed
        self.failed |= other.failed

    def functions_reached(self, event_id: str) -> set[str]:
        return {r["function_id"] for r in self.routes if r["event_id"] == event_id}

    async def write(self, connection: AsyncConnection) -> None:
        """In the caller's transaction. Writing the same outcomes twice changes nothing."""
        if self.routes:
            await connection.execute(insert_ignore(connection, event_routes_table), self.routes)
        if self.routed:
            await connection.execute(
                _ROUTED, [{"event": i, "at": at} for i, at in self.routed.items()]
            )
        if self.failed:
            await connection.execute(
                _FAILED,
                [{"event": i, "retry_at": at, "why": why} for i, (at, why) in self.failed.items()],
            )
