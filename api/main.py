"""The API: `uvicorn api.main:app`. The Temporal client and the database engine are made once."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from temporalio.client import Client

from api.errors import ERROR_RESPONSES, install_error_handlers
from api.event_access import may_read_events
from api.routes import (
    auth,
    billing,
    dev,
    health,
    orders,
    products,
    refunds,
    stripe_webhooks,
    verification,
)
from api.services import Services
from application import build_dispatcher, build_registry
from infra.stripe_client import make_stripe_client
from inngest_temporal import (
    EngineServices,
    EventApiLimits,
    EventKeys,
    JsonBodyLimits,
    create_engine,
    include_event_api,
    session_factory,
)
from inngest_temporal.client import connect_temporal
from settings import Settings
from settings import settings as default_settings


async def _connect_lazily() -> Client:
    # Lazy: an API whose Temporal is down still starts and accepts events into the log.
    return await connect_temporal(lazy=True)


def create_app(
    settings: Settings = default_settings,
    connect: Callable[[], Awaitable[Client]] = _connect_lazily,
) -> FastAPI:
    registry = build_registry(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await connect()
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
            stripe=make_stripe_client(settings),
        )
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
        EventKeys(settings.event_key, settings.event_keys),
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
        stripe_webhooks,
        products,
        orders,
        refunds,
        dev,
    ):
        app.include_router(module.router)
    return app


app = create_app()
