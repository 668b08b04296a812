"""The API: `uvicorn --factory api.main:create_app`. The Temporal client and the database engine
are made once, at start-up; the settings are checked first (production refuses to start with a
missing or placeholder secret)."""

import asyncio
import functools
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from temporalio.client import Client

from api.errors import ERROR_RESPONSES, install_error_handlers
from api.routes import (
    auth,
    billing,
    dev,
    health,
    me,
    orders,
    products,
    refunds,
    stripe_webhooks,
    verification,
)
from api.security import may_read_events, require_staff
from api.services import Services
from application import build_dispatcher, build_registry
from auth.oidc import OidcVerifier
from infra.logs import configure_logging
from infra.stripe_client import make_stripe_client
from inngest_temporal import EventKeys, create_engine, session_factory
from inngest_temporal.client import connect_temporal
from inngest_temporal.codec import EncryptionCodec, data_converter
from inngest_temporal.codec_server import add_codec_cors, codec_router
from inngest_temporal.http import EngineServices, EventApiLimits, add_routes, include_event_api
from inngest_temporal.json_body import JsonBodyLimits
from settings import Settings, load_settings


@functools.cache
def freeze_startup_heap() -> None:
    """What the process holds for its life exists once the first app starts (the application's
    modules, the SDKs', the app): out of the cyclic collector's way. Otherwise each full
    collection walks all of it, 170,000 objects and 150 ms of CPU with every request waiting,
    about once a minute at 2 signups/s (measured). Once per process: a test process that builds
    an app per test freezes what its first app found, not every test's garbage (and asking the
    collector whether it froze, gc.get_freeze_count, walks the frozen objects: 23 ms)."""
    gc.freeze()


def create_app(
    settings: Settings | None = None, connect: Callable[[], Awaitable[Client]] | None = None
) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings)
    registry = build_registry(settings)
    keys = EventKeys(settings.event_key, settings.event_keys)
    encryption = settings.encryption_keys

    async def connect_lazily() -> Client:
        # Lazy: an API whose Temporal is down still starts and accepts events into the log.
        return await connect_temporal(data_converter(encryption), lazy=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await (connect or connect_lazily)()
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        dispatcher = build_dispatcher(client, sessions, settings, registry)
        app.state.engine = EngineServices(client=client, sessions=sessions, dispatcher=dispatcher)
        app.state.services = Services(
            settings=settings,
            client=client,
            engine=engine,
            sessions=sessions,
            registry=registry,
            dispatcher=dispatcher,
            event_keys=keys,
            stripe=make_stripe_client(settings),
            oidc=_oidc(settings),
        )
        freeze_startup_heap()
        routing = asyncio.create_task(dispatcher.run())
        yield
        routing.cancel()
        with suppress(asyncio.CancelledError):
            await routing
        await engine.dispose()

    app = FastAPI(title="Pipelines", version="0.1.0", lifespan=lifespan, responses=ERROR_RESPONSES)
    app.add_middleware(JsonBodyLimits, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    include_event_api(
        app,
        keys,
        EventApiLimits(
            settings.max_body_bytes, settings.max_events_per_request, settings.max_event_bytes
        ),
        authorize_read=may_read_events,
        catalog=registry.catalog,
    )
    for module in (
        health,
        auth,
        verification,
        billing,
        me,
        stripe_webhooks,
        products,
        orders,
        refunds,
    ):
        add_routes(app, module.router)
    if settings.is_development:
        add_routes(app, dev.router)
    if encryption:
        # The Web UI decodes through this; outside development only staff may.
        authorize = None if settings.is_development else require_staff
        codec = codec_router(EncryptionCodec(encryption), authorize, responses=ERROR_RESPONSES)
        add_routes(app, codec)
        add_codec_cors(app, settings.codec_cors_origins)
    return app


def _oidc(settings: Settings) -> OidcVerifier | None:
    if not settings.auth_jwks_url:
        return None
    return OidcVerifier(
        settings.auth_jwks_url, settings.auth_issuer or "", settings.auth_audience or ""
    )
