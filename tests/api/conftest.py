"""The API in-process against the session's dev server, with a worker on a fresh task queue (or,
with `skipping_api`, against a time-skipping server)."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
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
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.fixtures import migrate
from tests.support import make_worker

ADMIN_TOKEN = "staff-token-for-tests-only-0123456789abcdef"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Api:
    http: httpx.AsyncClient
    app: FastAPI
    client: Client
    sessions: Sessions
    settings: Settings


@pytest.fixture
def api_settings(database_url: str, task_queue: str) -> Settings:
    return Settings(
        environment="development",
        database_url=database_url,
        task_queue=task_queue,
        payload_encryption_key=TEST_ENCRYPTION_KEY,
        stripe_webhook_secret="whsec_test_only_secret",
        admin_token=ADMIN_TOKEN,
        # What one app routed shows on another's GET /api/events/{id} within half a second.
        routing_record_seconds=0.5,
    )


def serving(
    client: Client,
    sessions: Sessions,
    settings: Settings,
    fakes: Sequence[Callable[..., Any]] = (),
) -> AbstractAsyncContextManager[Api]:
    """The app on `client`'s server, and a worker with the real activities (except `fakes`)."""
    return running_api(settings, client, sessions, worker_client=client, fakes=fakes)


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment, sessions: Sessions, api_settings: Settings
) -> AsyncIterator[Api]:
    async with serving(dev_env.client, sessions, api_settings) as served:
        yield served


@pytest.fixture
async def skipping_api(
    skipping_env: WorkflowEnvironment, sessions: Sessions, api_settings: Settings
) -> AsyncIterator[Api]:
    """The API and a worker on a time-skipping server: days of a run's timers in moments
    (`await skipping_env.sleep(...)`), with the real endpoints, event log and router."""
    async with serving(skipping_env.client, sessions, api_settings) as served:
        yield served


@asynccontextmanager
async def app_with(api: Api, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The same API with other settings (the fixture's worker serves its runs)."""
    settings = Settings(**{**api.settings.model_dump(), **overrides})

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
    fakes: Sequence[Callable[..., Any]] = (),
) -> AsyncIterator[Api]:
    """The API on `client` (which may fail on purpose, or be lazy to a server that is down), with
    a worker on `worker_client` when given (its activities the real ones, except `fakes`)."""

    async def connect() -> Client:
        return client

    app = create_app(settings, connect=connect)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        if worker_client is not None:
            await stack.enter_async_context(
                make_worker(
                    worker_client,
                    sessions,
                    settings.task_queue,
                    settings=settings,
                    fakes=list(fakes),
                )
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
