"""Events about subscriptions and payments."""

from typing import Literal

from pydantic import Field

from events.users import PaidPlan
from inngest_temporal import CamelModel, Event


class SubscriptionCreatedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    subscription_id: str = Field(min_length=1, max_length=200)
    plan: PaidPlan


class SubscriptionCreated(Event):
    name: Literal["billing/subscription.created"] = "billing/subscription.created"
    data: SubscriptionCreatedData


class SubscriptionDeletedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    subscription_id: str = Field(min_length=1, max_length=200)
    plan: PaidPlan | None = None


class SubscriptionDeleted(Event):
    """The subscription ended (cancelled by the customer or by Stripe after failed payments)."""

    name: Literal["billing/subscription.deleted"] = "billing/subscription.deleted"
    data: SubscriptionDeletedData


class PaymentFailedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    invoice_id: str = Field(min_length=1, max_length=200)
    subscription_id: str | None = Field(default=None, max_length=200)
    amount_due: int = Field(
        ge=0, le=2**63 - 1, description="in the currency's smallest unit (cents)"
    )
    currency: str = Field(min_length=3, max_length=3)
    attempt_count: int = Field(ge=0, le=2**31 - 1)


class PaymentFailed(Event):
    name: Literal["billing/payment.failed"] = "billing/payment.failed"
    data: PaymentFailedData
