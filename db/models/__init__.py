"""Every table, imported here so Alembic and the tests see the whole schema."""

from db.models.accounts import AnalyticsEvent, OutboxMessage, User, Workspace, WorkspaceSetting
from db.models.base import Base
from db.models.events import EventRecord

__all__ = [
    "AnalyticsEvent",
    "Base",
    "EventRecord",
    "OutboxMessage",
    "User",
    "Workspace",
    "WorkspaceSetting",
]
