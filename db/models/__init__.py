"""Every table, imported here so Alembic and the tests see the whole schema."""

from db.models.accounts import AnalyticsEvent, OutboxMessage, User, Workspace, WorkspaceSetting
from db.models.base import Base
from db.models.billing import Subscription
from db.models.commerce import (
    Fulfillment,
    LoyaltyEntry,
    Order,
    OrderLine,
    Product,
    Refund,
    Reservation,
)
from db.models.crm import CrmPush

__all__ = [
    "AnalyticsEvent",
    "Base",
    "CrmPush",
    "Fulfillment",
    "LoyaltyEntry",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Product",
    "Refund",
    "Reservation",
    "Subscription",
    "User",
    "Workspace",
    "WorkspaceSetting",
]
