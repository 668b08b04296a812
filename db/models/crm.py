"""CRM pushes: one row per user synced to a CRM provider, with the time the push held its place."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class CrmPush(Base):
    """`started_at` (first attempt) to `finished_at` (last answer) is the interval the run held its
    concurrency permit for, so the per-provider limit can be checked from the database."""

    __tablename__ = "crm_pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(50), index=True)
    transport: Mapped[str] = mapped_column(String(20))  # webhook | outbox
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | synced | refused
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
