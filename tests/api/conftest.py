"""The API in-process against the session's dev server, with a worker on a fresh task queue (or,
with `skipping_api`, against a time-skipping server)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from inngest_temporal import Sessions
from settings import Settings
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


@pytest.fixture
async def skipping_api(
    skipping_env: WorkflowEnvironment, sessions: Sessions, api_settings: Settings
) -> AsyncIterator[Api]:
    """The API and a worker on a time-skipping server: days of a run's timers in moments
    (`await skipping_env.sleep(...)`), with the real endpoints, event log and router."""

    async def connect() -> Client:
        return skipping_env.client

    app = create_app(api_settings, connect=connect)
    worker = make_worker(
        skipping_env.client, sessions, api_settings.task_queue, settings=api_settings
    )
    async with (
        app.router.lifespan_context(app),
        worker,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield Api(http, app, skipping_env.client, sessions, api_settings)


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
