"""Stock in the product catalogue: check it, reserve it atomically, release or consume it.

A product's sellable units are `stock - reserved`. Reserving is one conditional UPDATE per product
(`... WHERE stock - reserved >= quantity`), so two orders racing for the last unit cannot both
win, on SQLite (one writer at a time) and on PostgreSQL (row locks) alike."""

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from db.models import Order, Product, Reservation
from events.orders import OrderItem
from inngest_temporal import CamelModel, NonRetriableError, Sessions, local_activity

OPEN_ORDER_STATUSES = ("pending", "processing")


class OrderRef(CamelModel):
    order_id: str


class OrderItems(CamelModel):
    order_id: str
    items: list[OrderItem]


class InventoryCheck(CamelModel):
    available: bool


class ReservedItem(CamelModel):
    product_id: str
    quantity: int


class ReservationRecord(CamelModel):
    order_id: str
    items: list[ReservedItem]


class ReleaseResult(CamelModel):
    released_units: int


class OutOfStock(NonRetriableError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"Product {product_id} out of stock")


class InventoryActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @local_activity
    @activity.defn
    async def check_inventory(self, order: OrderItems) -> InventoryCheck:
        async with self._sessions() as session:
            status = await session.scalar(select(Order.status).where(Order.id == order.order_id))
            if status is None:
                raise NonRetriableError(f"order {order.order_id} does not exist")
            if status not in OPEN_ORDER_STATUSES:
                raise NonRetriableError(f"order {order.order_id} is {status}, not open")
            ids = [item.product_id for item in order.items]
            available = dict(
                (
                    await session.execute(
                        select(Product.id, Product.stock - Product.reserved).where(
                            Product.id.in_(ids)
                        )
                    )
                )
                .tuples()
                .all()
            )
        for item in order.items:
            if available.get(item.product_id, 0) < item.quantity:
                raise OutOfStock(item.product_id)
        return InventoryCheck(available=True)

    @local_activity
    @activity.defn
    async def reserve_inventory(self, order: OrderItems) -> ReservationRecord:
        """All items or none, in one transaction. A retry after a commit finds its reservation."""
        async with self._sessions() as session, session.begin():
            held = await _reservations(session, order.order_id, "held")
            if held:
                return ReservationRecord(order_id=order.order_id, items=held)
            # A fixed lock order keeps two multi-item orders from deadlocking on PostgreSQL.
            for item in sorted(order.items, key=lambda i: i.product_id):
                result = await session.execute(
                    update(Product)
                    .where(
                        Product.id == item.product_id,
                        Product.stock - Product.reserved >= item.quantity,
                    )
                    .values(reserved=Product.reserved + item.quantity)
                )
                if cast(CursorResult[Any], result).rowcount != 1:
                    raise OutOfStock(item.product_id)  # leaving the block rolls everything back
                session.add(
                    Reservation(
                        order_id=order.order_id,
                        product_id=item.product_id,
                        quantity=item.quantity,
                        status="held",
                    )
                )
        return ReservationRecord(
            order_id=order.order_id,
            items=[ReservedItem(product_id=i.product_id, quantity=i.quantity) for i in order.items],
        )

    @local_activity
    @activity.defn
    async def release_inventory(self, order: OrderRef) -> ReleaseResult:
        """Compensation: gives back what the order holds. Releasing twice releases once."""
        async with self._sessions() as session, session.begin():
            units = await settle_reservations(session, order.order_id, "released")
        return ReleaseResult(released_units=units)


async def settle_reservations(session: AsyncSession, order_id: str, outcome: str) -> int:
    """Ends an order's held reservations: `released` returns the units to sale, `consumed` takes
    them out of stock (they left the warehouse). Returns the units settled; idempotent."""
    units = 0
    for item in await _reservations(session, order_id, "held"):
        result = await session.execute(
            update(Reservation)
            .where(
                Reservation.order_id == order_id,
                Reservation.product_id == item.product_id,
                Reservation.status == "held",
            )
            .values(status=outcome)
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            continue  # settled by a concurrent attempt
        values: dict[str, Any] = {"reserved": Product.reserved - item.quantity}
        if outcome == "consumed":
            values["stock"] = Product.stock - item.quantity
        await session.execute(update(Product).where(Product.id == item.product_id).values(values))
        units += item.quantity
    return units


async def _reservations(session: AsyncSession, order_id: str, status: str) -> list[ReservedItem]:
    rows = await session.scalars(
        select(Reservation).where(Reservation.order_id == order_id, Reservation.status == status)
    )
    return [ReservedItem(product_id=r.product_id, quantity=r.quantity) for r in rows]
