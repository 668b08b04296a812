"""Events about subscriptions and payments."""

from typing import Literal

from pydantic import Field

from events.envelope import CamelModel, Event
from events.users import PaidPlan


class SubscriptionCreatedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    subscription_id: str = Field(min_length=1, max_length=200)
    plan: PaidPlan


class SubscriptionCreated(Event):
    name: Literal["billing/subscription.created"] = "billing/subscription.created"
    data: SubscriptionCreatedData
