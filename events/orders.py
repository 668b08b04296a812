"""Events about orders, fulfilment and refunds (second seed document)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.fields import Email
from inngest_temporal import CamelModel, Event

# Money in cents, as the shop's 32-bit integer columns hold it.
MAX_CENTS = 2**31 - 1


class OrderItem(CamelModel):
    product_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000)
    price_cents: int = Field(ge=0, le=MAX_CENTS)


class OrderCreatedData(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[OrderItem] = Field(min_length=1, max_length=500)
    total_cents: int = Field(ge=0, le=MAX_CENTS)


class OrderCreated(Event):
    name: Literal["order/created"] = "order/created"
    data: OrderCreatedData


class OrderFulfilledData(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    total_cents: int = Field(ge=0, le=MAX_CENTS)
    fulfillment_id: str = Field(min_length=1, max_length=200)
    estimated_delivery: datetime | None = None


class OrderFulfilled(Event):
    name: Literal["order/fulfilled"] = "order/fulfilled"
    data: OrderFulfilledData


class OrderShippedData(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    tracking_number: str = Field(min_length=1, max_length=200)


class OrderShipped(Event):
    name: Literal["order/shipped"] = "order/shipped"
    data: OrderShippedData


class RefundRequestedData(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    amount_cents: int = Field(gt=0, le=MAX_CENTS)
    reason: str = Field(min_length=1, max_length=1000)


class RefundUser(CamelModel):
    id: str = Field(min_length=1, max_length=64)
    email: Email = Field(max_length=254)


class RefundRequested(Event):
    name: Literal["refund/requested"] = "refund/requested"
    data: RefundRequestedData
    user: RefundUser


class RefundDecisionData(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    action: Literal["approved", "rejected"]
    decided_by: str | None = Field(default=None, max_length=200)


class RefundDecision(Event):
    name: Literal["refund/decision"] = "refund/decision"
    data: RefundDecisionData
