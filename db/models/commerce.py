"""The shop: a product catalogue with stock, orders, inventory reservations, fulfilments, the
loyalty ledger and refunds (second seed document)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class Product(Base):
    """`stock` is on hand; `reserved` is held for orders in progress; the rest can be sold."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= stock", name="ck_products_reserved"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Order(Base):
    """status: pending -> processing -> fulfilled -> shipped, or failed; refunded or
    partially_refunded after a completed refund."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), default="pending")
    total_cents: Mapped[int] = mapped_column(Integer)
    # The Stripe PaymentIntent that paid for the order, which a refund is made against.
    payment_intent_id: Mapped[str | None] = mapped_column(String(200), default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    fulfillment_id: Mapped[str | None] = mapped_column(String(200), default=None)
    estimated_delivery: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(200), default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OrderLine(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "product_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)


class Reservation(Base):
    """Units of a product held for an order: held -> consumed (fulfilled) or released."""

    __tablename__ = "reservations"
    __table_args__ = (UniqueConstraint("order_id", "product_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="held")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Fulfillment(Base):
    """An order handed to a fulfilment provider (the HTTP one, or the built-in local one)."""

    __tablename__ = "fulfillments"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))  # local | http
    status: Mapped[str] = mapped_column(String(20))  # submitted | accepted
    ready_at: Mapped[datetime] = mapped_column(UtcDateTime)
    estimated_delivery: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoyaltyEntry(Base):
    """Points credited for an order; the unique order id makes a credit happen once."""

    __tablename__ = "loyalty_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Refund(Base):
    """One refund request per order. status: awaiting_approval | processing (no approval needed)
    -> approved | rejected -> completed | failed (the payment provider refused it, or it could
    not be made). The process-refund run writes every change after the request: a staff decision
    is an event the run applies (`decision_event_id` names the one it applied), so the row says
    what the run did, never what an endpoint hoped."""

    __tablename__ = "refunds"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30))
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    rejection_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    provider: Mapped[str | None] = mapped_column(String(20), default=None)  # stripe | local
    refund_id: Mapped[str | None] = mapped_column(String(200), default=None)
    decision_event_id: Mapped[str | None] = mapped_column(String(256), default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # When the money went back (the daily digest counts revenue net of refunds by this).
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
