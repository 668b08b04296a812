"""Orders: `POST /api/orders` stores the order and its `order/created` together (process-order
takes it from there); staff mark an order shipped, which sends `order/shipped`.

Prices are the catalogue's: each item's `priceCents` must equal the product's current price (the
price the customer saw), otherwise 422, so a client can neither set its own price nor charge a
customer a price that changed under them. Stock is not checked here: process-order does that,
atomically, and fails the order when it is short."""

import hashlib
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy import select
from ulid import ULID

from api.deps import ServicesDep, SessionsDep
from api.errors import ERROR_RESPONSES, Conflict, NotFound, Unprocessable
from api.params import OrderIdPath
from api.security import STAFF_ONLY, CurrentUser, Viewer
from db.models import Order, OrderLine, Product
from events.orders import (
    OrderCreated,
    OrderCreatedData,
    OrderItem,
    OrderShipped,
    OrderShippedData,
)
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/orders", tags=["orders"], responses=ERROR_RESPONSES)

MAX_TOTAL_CENTS = 2**31 - 1  # the orders table's integer column


class OrderRequest(CamelModel):
    """The customer is the signed-in user (never one named in the body)."""

    items: list[OrderItem] = Field(min_length=1, max_length=500)
    # The Stripe PaymentIntent that paid for it; refunds go back through it.
    payment_intent_id: str | None = Field(default=None, min_length=1, max_length=200)


class OrderCreatedResponse(CamelModel):
    order_id: str
    status: Literal["pending"] = "pending"
    total_cents: int


class OrderView(CamelModel):
    order_id: str
    customer_id: str
    status: str
    total_cents: int
    items: list[OrderItem]
    failure_reason: str | None
    fulfillment_id: str | None
    estimated_delivery: datetime | None
    tracking_number: str | None


class ShipmentRequest(CamelModel):
    tracking_number: str = Field(min_length=1, max_length=200)


class ShipmentResponse(CamelModel):
    order_id: str
    tracking_number: str
    status: Literal["shipping"] = "shipping"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderCreatedResponse)
async def create_order(
    body: OrderRequest, services: ServicesDep, customer: CurrentUser
) -> OrderCreatedResponse:
    ids = [item.product_id for item in body.items]
    repeated = sorted({pid for pid in ids if ids.count(pid) > 1})
    if repeated:
        raise Unprocessable(f"product '{repeated[0]}' is listed twice: use one item per product")
    order_id = f"ord_{ULID()}"
    async with services.change() as change:
        session = change.session
        catalogue = select(Product.id, Product.price_cents).where(Product.id.in_(ids))
        prices = dict((await session.execute(catalogue)).tuples().all())
        for item in body.items:
            if item.product_id not in prices:
                raise Unprocessable(f"unknown product '{item.product_id}'")
            if item.price_cents != prices[item.product_id]:
                raise Unprocessable(
                    f"price of '{item.product_id}' is {prices[item.product_id]} cents, "
                    f"not {item.price_cents}"
                )
        total = sum(item.quantity * item.price_cents for item in body.items)
        if total > MAX_TOTAL_CENTS:
            raise Unprocessable(f"an order total of {total} cents is over the limit")
        session.add(
            Order(
                id=order_id,
                customer_id=customer.id,
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
        await change.emit(
            OrderCreated(
                id=f"order-created-{order_id}",
                data=OrderCreatedData(
                    order_id=order_id,
                    customer_id=customer.id,
                    items=body.items,
                    total_cents=total,
                ),
            )
        )
    return OrderCreatedResponse(order_id=order_id, total_cents=total)


@router.get("/{order_id}", response_model=OrderView)
async def get_order(order_id: OrderIdPath, sessions: SessionsDep, who: Viewer) -> OrderView:
    """One's own order (staff: any). Another customer's is not found, as an unknown one."""
    async with sessions() as session:
        order = await session.get(Order, order_id)
        if order is None or not who.may_see(order.customer_id):
            raise NotFound(f"no order '{order_id}'")
        lines = (
            await session.scalars(
                select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
            )
        ).all()
    return OrderView(
        order_id=order.id,
        customer_id=order.customer_id,
        status=order.status,
        total_cents=order.total_cents,
        items=[
            OrderItem(product_id=li.product_id, quantity=li.quantity, price_cents=li.price_cents)
            for li in lines
        ],
        failure_reason=order.failure_reason,
        fulfillment_id=order.fulfillment_id,
        estimated_delivery=order.estimated_delivery,
        tracking_number=order.tracking_number,
    )


@router.post(
    "/{order_id}/ship",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[STAFF_ONLY],
    response_model=ShipmentResponse,
)
async def ship_order(
    order_id: OrderIdPath, body: ShipmentRequest, services: ServicesDep
) -> ShipmentResponse:
    """Staff (or the warehouse) report the parcel left: sends `order/shipped`."""
    async with services.change() as change:
        order = await change.session.get(Order, order_id)
        if order is None:
            raise NotFound(f"no order '{order_id}'")
        if order.status not in ("fulfilled", "shipped"):
            raise Conflict(f"order {order_id} is {order.status}: only a fulfilled order can ship")
        # One event per order and tracking number: repeating the call sends nothing new.
        tracking = hashlib.sha256(body.tracking_number.encode()).hexdigest()[:16]
        await change.emit(
            OrderShipped(
                id=f"order-shipped-{order_id}-{tracking}",
                data=OrderShippedData(order_id=order_id, tracking_number=body.tracking_number),
            )
        )
    return ShipmentResponse(order_id=order_id, tracking_number=body.tracking_number)
