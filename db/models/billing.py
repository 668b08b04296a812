"""Subscriptions: recorded locally, kept in sync with Stripe by its webhooks when it is used."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow

# Stripe's subscription statuses, grouped by what they mean to us.
PAYING_STATUSES = ("active", "trialing", "past_due")  # the user converted
ENDED_STATUSES = ("canceled", "incomplete_expired")  # a new subscription may be created


class Subscription(Base):
    __tablename__ = "subscriptions"

    # Stripe's subscription id when Stripe is used, `sub_local_...` when billing runs offline.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    plan: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(
        String(200), default=None, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
