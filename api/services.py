"""What the API holds for its lifetime: made once at start-up, shared by every request."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from stripe import StripeClient
from temporalio.client import Client

from db.engine import Sessions
from events.registry import Registry
from events.router import Router
from settings import Settings


@dataclass
class Services:
    settings: Settings
    client: Client
    engine: AsyncEngine
    sessions: Sessions
    registry: Registry
    router: Router
    # None when no Stripe key is configured: billing is then recorded locally.
    stripe: StripeClient | None = None
