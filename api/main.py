"""The API: `uvicorn api.main:app`. The Temporal client and the database engine are made once."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api.routes import (
    auth,
    billing,
    dev,
    events,
    health,
    orders,
    products,
    refunds,
    stripe_webhooks,
    verification,
)
from api.services import Services
from db import create_engine, session_factory
from events.registry import registry
from events.router import Router
from infra.stripe_client import make_stripe_client
from infra.temporal import connect_temporal
from settings import Settings
from settings import settings as default_settings


def create_app(
    settings: Settings = default_settings,
    connect: Callable[[], Awaitable[Client]] = connect_temporal,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await connect()
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        app.state.services = Services(
            settings=settings,
            client=client,
            engine=engine,
            sessions=sessions,
            registry=registry,
            router=Router(
                client, sessions, settings.task_queue, registry, settings.router_max_in_flight
            ),
            stripe=make_stripe_client(settings),
        )
        yield
        await engine.dispose()

    app = FastAPI(title="Pipelines", version="0.1.0", lifespan=lifespan)
    for module in (
        health,
        events,
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
