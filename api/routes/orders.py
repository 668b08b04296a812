"""Orders: `POST /api/orders` stores the order and sends `order/created` (process-order takes it
from there); staff mark an order shipped, which sends `order/shipped`.

Prices are the catalogue's: each item's `priceCents` must equal the product's current price (the
price the customer saw), otherwise 422, so a client can neither set its own price nor charge a
customer a price that changed under them. Stock is not checked here: process-order does that,
atomically, and fails the order when it is short."""

import hashlib
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy import delete, select
from temporalio.service import RPCError
from ulid import ULID

from api.deps import RouterDep, SessionsDep
from api.errors import conflict, not_found, unavailable, unprocessable
from api.staff import STAFF_ONLY
from db.models import Order, OrderLine, Product, User
from events.envelope import CamelModel
from events.orders import (
    OrderCreated,
    OrderCreatedData,
    OrderItem,
    OrderShipped,
    OrderShippedData,
)

router = APIRouter(prefix="/api/orders", tags=["orders"])

MAX_TOTAL_CENTS = 2**31 - 1  # the orders table's integer column


class OrderRequest(CamelModel):
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[OrderItem] = Field(min_length=1, max_length=500)
    # The Stripe PaymentIntent that paid for it; refunds go back through it.
    payment_intent_id: str | None = Field(default=None, min_length=1, max_length=200)


class ShipmentRequest(CamelModel):
    tracking_number: str = Field(min_length=1, max_length=200)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_order(
    body: OrderRequest, sessions: SessionsDep, events: RouterDep
) -> dict[str, Any]:
    ids = [item.product_id for item in body.items]
    repeated = sorted({pid for pid in ids if ids.count(pid) > 1})
    if repeated:
        raise unprocessable(f"product '{repeated[0]}' is listed twice: use one item per product")
    order_id = f"ord_{ULID()}"
    async with sessions() as session:
        if await session.get(User, body.customer_id) is None:
            raise unprocessable(f"unknown customer '{body.customer_id}'")
        catalogue = select(Product.id, Product.price_cents).where(Product.id.in_(ids))
        prices = dict((await session.execute(catalogue)).tuples().all())
        for item in body.items:
            if item.product_id not in prices:
                raise unprocessable(f"unknown product '{item.product_id}'")
            if item.price_cents != prices[item.product_id]:
                raise unprocessable(
                    f"price of '{item.product_id}' is {prices[item.product_id]} cents, "
                    f"not {item.price_cents}"
                )
        total = sum(item.quantity * item.price_cents for item in body.items)
        if total > MAX_TOTAL_CENTS:
            raise unprocessable(f"an order total of {total} cents is over the limit")
        session.add(
            Order(
                id=order_id,
                customer_id=body.customer_id,
                status="pending",
                total_cents=total,
                payment_intent_id=body.payment_intent_id,
            )
        )
        await session.flush()  # the order row before its lines (foreign keys)
        session.add_all(
            OrderLine(
                order_id=order_id,
                product_id=i.product_id,
                quantity=i.quantity,
                price_cents=i.price_cents,
            )
            for i in body.items
        )
        await session.commit()
    created = OrderCreated(
        id=f"order-created-{order_id}",
        data=OrderCreatedData(
            order_id=order_id, customer_id=body.customer_id, items=body.items, total_cents=total
        ),
    )
    try:
        await events.send([created])
    except RPCError as err:
        # Nothing half-done: an order nobody processes was not placed.
        async with sessions() as session:
            await session.execute(delete(OrderLine).where(OrderLine.order_id == order_id))
            await session.execute(delete(Order).where(Order.id == order_id))
            await session.commit()
        raise unavailable(f"Temporal is unavailable, please retry: {err.message}") from err
    return {"orderId": order_id, "status": "pending", "totalCents": total}


@router.get("/{order_id}")
async def get_order(order_id: str, sessions: SessionsDep) -> dict[str, Any]:
    async with sessions() as session:
        order = await session.get(Order, order_id)
        if order is None:
            raise not_found(f"no order '{order_id}'")
        lines = (
            await session.scalars(
                select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
            )
        ).all()
    delivery = order.estimated_delivery
    return {
        "orderId": order.id,
        "customerId": order.customer_id,
        "status": order.status,
        "totalCents": order.total_cents,
        "items": [
            {"productId": li.product_id, "quantity": li.quantity, "priceCents": li.price_cents}
            for li in lines
        ],
        "failureReason": order.failure_reason,
        "fulfillmentId": order.fulfillment_id,
        "estimatedDelivery": delivery.isoformat() if delivery else None,
        "trackingNumber": order.tracking_number,
    }


@router.post("/{order_id}/ship", status_code=status.HTTP_202_ACCEPTED, dependencies=[STAFF_ONLY])
async def ship_order(
    order_id: str, body: ShipmentRequest, sessions: SessionsDep, events: RouterDep
) -> dict[str, Any]:
    """Staff (or the warehouse) report the parcel left: sends `order/shipped`."""
    async with sessions() as session:
        order = await session.get(Order, order_id)
    if order is None:
        raise not_found(f"no order '{order_id}'")
    if order.status not in ("fulfilled", "shipped"):
        raise conflict(f"order {order_id} is {order.status}: only a fulfilled order can ship")
    # One event per order and tracking number: repeating the call sends nothing new.
    tracking = hashlib.sha256(body.tracking_number.encode()).hexdigest()[:16]
    shipped = OrderShipped(
        id=f"order-shipped-{order_id}-{tracking}",
        data=OrderShippedData(order_id=order_id, tracking_number=body.tracking_number),
    )
    try:
        await events.send([shipped])
    except RPCError as err:
        raise unavailable(f"Temporal is unavailable, please retry: {err.message}") from err
    return {"orderId": order_id, "trackingNumber": body.tracking_number, "status": "shipping"}
