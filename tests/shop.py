"""The shop's test data: customers, products and orders written straight to the database, and the
events that start the shop's pipelines."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from db.models import Order, OrderLine, OutboxMessage, Product, Refund, User
from events.orders import (
    OrderCreated,
    OrderCreatedData,
    OrderItem,
    RefundRequested,
    RefundRequestedData,
    RefundUser,
)
from inngest_temporal import Sessions
from settings import Settings
from tests.support import unique


def shop_settings(**overrides: Any) -> Settings:
    """Test settings with a local fulfilment provider that answers at once."""
    return Settings(**{"environment": "test", "fulfillment_local_seconds": 0.05, **overrides})


async def add_user(sessions: Sessions, **fields: Any) -> User:
    user_id = unique("user")
    user = User(
        **{
            "id": user_id,
            "email": f"{user_id}@example.com",
            "name": "Ada",
            "plan": "free",
            "role": "member",
            **fields,
        }
    )
    async with sessions() as session:
        session.add(user)
        await session.commit()
    return user


async def add_product(sessions: Sessions, stock: int, price_cents: int = 2_500) -> str:
    product_id = unique("sku")
    async with sessions() as session:
        session.add(
            Product(id=product_id, name="Signed print", price_cents=price_cents, stock=stock)
        )
        await session.commit()
    return product_id


async def add_order(
    sessions: Sessions,
    customer_id: str,
    lines: list[tuple[str, int, int]],
    status: str = "pending",
    created_at: datetime | None = None,
    **fields: Any,
) -> OrderCreated:
    """An order of (product id, quantity, price in cents) lines, and its `order/created` event."""
    order_id = unique("ord")
    items = [OrderItem(product_id=p, quantity=q, price_cents=c) for p, q, c in lines]
    total = sum(i.quantity * i.price_cents for i in items)
    async with sessions() as session:
        session.add(
            Order(
                id=order_id,
                customer_id=customer_id,
                status=status,
                total_cents=total,
                created_at=created_at or datetime.now(UTC),
                **fields,
            )
        )
        await session.flush()
        session.add_all(
            OrderLine(
                order_id=order_id,
                product_id=i.product_id,
                quantity=i.quantity,
                price_cents=i.price_cents,
            )
            for i in items
        )
        await session.commit()
    return OrderCreated(
        id=unique("evt"),
        data=OrderCreatedData(
            order_id=order_id, customer_id=customer_id, items=items, total_cents=total
        ),
    )


async def add_refund_request(
    sessions: Sessions, order: OrderCreated, customer: User, amount_cents: int, status: str
) -> RefundRequested:
    """A refund row as the API stores it, and the event the API sends."""
    order_id = order.data.order_id
    async with sessions() as session:
        session.add(
            Refund(
                order_id=order_id, amount_cents=amount_cents, reason="Arrived broken", status=status
            )
        )
        await session.commit()
    return RefundRequested(
        id=f"refund-requested-{order_id}",
        data=RefundRequestedData(
            order_id=order_id, amount_cents=amount_cents, reason="Arrived broken"
        ),
        user=RefundUser(id=customer.id, email=customer.email),
    )


async def emails_to(sessions: Sessions, address: str) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == address, OutboxMessage.channel == "email")
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def step_error(failure: WorkflowFailureError) -> str:
    """The message of the step error that failed a run (an activity's error arrives wrapped in an
    ActivityError; a local activity's as the error itself)."""
    error: BaseException | None = failure.cause
    if isinstance(error, ActivityError):
        error = error.cause
    assert isinstance(error, ApplicationError), error
    return error.message
