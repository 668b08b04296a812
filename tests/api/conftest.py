"""The API in-process against the session's dev server, with a worker on a fresh task queue."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from inngest_temporal import Sessions, create_engine, session_factory
from settings import Settings
from tests.conftest import migrate
from tests.support import make_worker


@dataclass
class Api:
    http: httpx.AsyncClient
    app: FastAPI
    client: Client
    sessions: Sessions
    settings: Settings


@pytest.fixture
def api_settings(database_url: str, task_queue: str) -> Settings:
    return Settings(environment="development", database_url=database_url, task_queue=task_queue)


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment, sessions: Sessions, api_settings: Settings
) -> AsyncIterator[Api]:
    async def connect() -> Client:
        return dev_env.client

    app = create_app(api_settings, connect=connect)
    worker = make_worker(dev_env.client, sessions, api_settings.task_queue, settings=api_settings)
    async with (
        app.router.lifespan_context(app),
        worker,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield Api(http, app, dev_env.client, sessions, api_settings)


@asynccontextmanager
async def app_with(api: Api, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The same API with other settings (the fixture's worker serves its runs)."""
    settings = api.settings.model_copy(update=overrides)

    async def connect() -> Client:
        return api.client

    app = create_app(settings, connect=connect)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http


@asynccontextmanager
async def running_api(
    settings: Settings,
    client: Client,
    sessions: Sessions,
    worker_client: Client | None = None,
) -> AsyncIterator[Api]:
    """The API on `client` (which may fail on purpose, or be lazy to a server that is down), with
    a worker on `worker_client` when given."""

    async def connect() -> Client:
        return client

    app = create_app(settings, connect=connect)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        if worker_client is not None:
            await stack.enter_async_context(
                make_worker(worker_client, sessions, settings.task_queue, settings=settings)
            )
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        )
        yield Api(http, app, client, sessions, settings)


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> str:
    """A migrated SQLite database of the test's own, for events that must stay unrouted (the
    session database's events are claimed by every later test's dispatcher)."""
    return migrate(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
async def fresh_database(fresh_database_url: str) -> AsyncIterator[tuple[str, Sessions]]:
    url = fresh_database_url
    engine = create_engine(url)
    yield url, session_factory(engine)
    await engine.dispose()
