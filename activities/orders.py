"""Orders in the database, and the emails that tell a customer about their order."""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities import commerce_emails
from activities.inventory import OPEN_ORDER_STATUSES, OrderRef, settle_reservations
from activities.mail import EmailActivities, EmailReceipt
from db.models import Order, OrderLine, Product, User
from inngest_temporal import CamelModel, NonRetriableError, Sessions, local_activity


class OrderFailure(CamelModel):
    order_id: str
    reason: str


class FulfilledOrder(CamelModel):
    order_id: str
    fulfillment_id: str
    estimated_delivery: datetime | None


class Shipment(CamelModel):
    order_id: str
    tracking_number: str


class CustomerNotice(CamelModel):
    order_id: str
    idempotency_key: str


class OrderActivities:
    def __init__(self, sessions: Sessions, email: EmailActivities) -> None:
        self._sessions = sessions
        self._email = email

    @local_activity
    @activity.defn
    async def update_order_processing(self, order: OrderRef) -> OrderRef:
        async with self._sessions() as session:
            await _require(session, order.order_id, OPEN_ORDER_STATUSES)
            await session.execute(
                update(Order).where(Order.id == order.order_id).values(status="processing")
            )
            await session.commit()
        return order

    @local_activity
    @activity.defn
    async def update_order_fulfilled(self, fulfilled: FulfilledOrder) -> OrderRef:
        """Marks the order fulfilled and takes its reserved units out of stock, together."""
        async with self._sessions() as session, session.begin():
            await _require(session, fulfilled.order_id, ("processing", "fulfilled"))
            await settle_reservations(session, fulfilled.order_id, "consumed")
            await session.execute(
                update(Order)
                .where(Order.id == fulfilled.order_id)
                .values(
                    status="fulfilled",
                    fulfillment_id=fulfilled.fulfillment_id,
                    estimated_delivery=fulfilled.estimated_delivery,
                )
            )
        return OrderRef(order_id=fulfilled.order_id)

    @local_activity
    @activity.defn
    async def mark_order_failed(self, failure: OrderFailure) -> OrderRef:
        async with self._sessions() as session:
            await session.execute(
                update(Order)
                .where(Order.id == failure.order_id, Order.status.in_(OPEN_ORDER_STATUSES))
                .values(status="failed", failure_reason=failure.reason[:2000])
            )
            await session.commit()
        return OrderRef(order_id=failure.order_id)

    @local_activity
    @activity.defn
    async def mark_order_shipped(self, shipment: Shipment) -> OrderRef:
        async with self._sessions() as session:
            order = await _require(session, shipment.order_id, ("fulfilled", "shipped"))
            if order.tracking_number != shipment.tracking_number:
                order.status = "shipped"
                order.tracking_number = shipment.tracking_number
                order.shipped_at = datetime.now(UTC)
                await session.commit()
        return OrderRef(order_id=shipment.order_id)

    @activity.defn
    async def send_order_confirmation(self, notice: CustomerNotice) -> EmailReceipt:
        async with self._sessions() as session:
            order, customer = await _with_customer(session, notice.order_id)
            lines = (
                await session.execute(
                    select(Product.name, OrderLine.quantity, OrderLine.price_cents)
                    .join(Product, Product.id == OrderLine.product_id)
                    .where(OrderLine.order_id == order.id)
                    .order_by(OrderLine.id)
                )
            ).tuples()
            rendered = commerce_emails.order_confirmation(
                customer.name,
                order.id,
                [commerce_emails.Line(name, quantity, price) for name, quantity, price in lines],
                order.total_cents,
                order.estimated_delivery,
            )
        return await self._email.send_email(
            rendered.message(customer.email, notice.idempotency_key)
        )

    @activity.defn
    async def send_shipping_email(self, notice: CustomerNotice) -> EmailReceipt:
        async with self._sessions() as session:
            order, customer = await _with_customer(session, notice.order_id)
        rendered = commerce_emails.order_shipped(
            customer.name, order.id, order.tracking_number or "(not yet known)"
        )
        return await self._email.send_email(
            rendered.message(customer.email, notice.idempotency_key)
        )


async def _require(session: AsyncSession, order_id: str, statuses: tuple[str, ...]) -> Order:
    """The order, if it is in one of `statuses`; anything else will not change on a retry."""
    order = await session.get(Order, order_id)
    if order is None:
        raise NonRetriableError(f"order {order_id} does not exist")
    if order.status not in statuses:
        raise NonRetriableError(
            f"order {order_id} is {order.status}, expected {'/'.join(statuses)}"
        )
    return order


async def _with_customer(session: AsyncSession, order_id: str) -> tuple[Order, User]:
    found = (
        await session.execute(
            select(Order, User).join(User, User.id == Order.customer_id).where(Order.id == order_id)
        )
    ).one_or_none()
    if found is None:
        raise NonRetriableError(f"order {order_id} does not exist")
    order, customer = found.tuple()
    return order, customer
