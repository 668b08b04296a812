"""What the API holds for its lifetime: made once at start-up, shared by every request."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from stripe import StripeClient
from temporalio.client import Client

from auth.oidc import OidcVerifier
from inngest_temporal import Accepted, Dispatcher, Event, EventKeys, Registry, Sessions
from settings import Settings


@dataclass
class Change:
    """One database transaction: the rows an endpoint writes and the events it emits, together."""

    session: AsyncSession
    dispatcher: Dispatcher
    accepted: list[Accepted] = field(default_factory=list)

    async def emit(self, *events: Event) -> Accepted:
        accepted = await self.dispatcher.store(self.session, list(events))
        self.accepted.append(accepted)
        return accepted


@dataclass
class Services:
    settings: Settings
    client: Client
    engine: AsyncEngine
    sessions: Sessions
    registry: Registry
    dispatcher: Dispatcher
    event_keys: EventKeys
    # None when no Stripe key is configured: billing is then recorded locally.
    stripe: StripeClient | None = None
    # The team's identity provider, when AUTH_JWKS_URL is set.
    oidc: OidcVerifier | None = None

    @asynccontextmanager
    async def change(self) -> AsyncIterator[Change]:
        """Commits the rows and events written in the block together (or neither), then routes
        the events; routing that cannot happen now is the dispatcher's to finish."""
        async with self.sessions() as session, session.begin():
            change = Change(session, self.dispatcher)
            yield change
        for accepted in change.accepted:
            await self.dispatcher.route(accepted)
