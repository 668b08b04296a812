"""The event log: every accepted event and what routing it did."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class EventRecord(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    user: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    ts: Mapped[int] = mapped_column(BigInteger)
    v: Mapped[str | None] = mapped_column(String(50), default=None)
    # [{functionId, workflowId, action}] where action is started | running | signalled |
    # cancelled | no-run: written once, after every Temporal call for the event succeeded.
    runs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
