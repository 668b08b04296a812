"""The suite's fixtures (see tests/conftest.py for what they give and why they live here)."""

import asyncio
import fcntl
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Sessions, create_engine, session_factory
from inngest_temporal.codec import data_converter, parse_keys
from tests.conftest import (
    ONE_PARTITION,
    ROOT,
    SHARED_DEV_SERVER,
    SQLITE_PRAGMAS,
    TEST_ENCRYPTION_KEY,
    tool,
)
from tests.postgres import make_template, running_postgres

CONVERTER = data_converter(parse_keys(TEST_ENCRYPTION_KEY))


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    config.attributes["database_url"] = url
    return config


def migrate(url: str) -> str:
    command.upgrade(alembic_config(url), "heads")
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrate(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    migrated = make_template(session_directory(tmp_path_factory), migrate)
    with running_postgres(migrated) as server:
        yield server.url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> Sessions:
    return session_factory(engine)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The SQLite database, then the PostgreSQL one (tests are grouped by backend)."""
    url: str = request.getfixturevalue(
        "database_url" if request.param == "sqlite" else "postgres_url"
    )
    return url


@pytest.fixture(scope="session")
async def any_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def any_sessions(any_engine: AsyncEngine) -> Sessions:
    return session_factory(any_engine)


@pytest.fixture
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per test (it starts in ~0.1 s): a run one test leaves behind
    with work pending would otherwise stop the shared clock for every later test."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=tool("temporal-test-server"),
        data_converter=CONVERTER,
    )
    yield env
    await env.shutdown()


async def start_dev_server(*extra_args: str) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=tool("temporal"),
        data_converter=CONVERTER,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=[*SQLITE_PRAGMAS, *extra_args],
    )


async def connect_when_up(address: str, timeout: float = 60) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = await Client.connect(address, data_converter=CONVERTER)
            await client.service_client.check_health()
            return client
        except Exception:  # not listening yet, or not serving yet
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server the xdist controller started for all the suite's processes (its task
    queues of one partition, see tests/conftest.py), or one of this process's own."""
    shared = os.environ.get(SHARED_DEV_SERVER)
    if shared:
        yield WorkflowEnvironment.from_client(await connect_when_up(shared))
        return
    env = await start_dev_server(*ONE_PARTITION)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def partitioned_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server with the server's default four partitions a task queue, as production has:
    the tasks of several worker processes on one queue are spread between them."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


def session_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of this test session's that all its processes share (xdist gives each
    process a base directory of its own, inside the session's)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@pytest.fixture
def server_schedules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Schedules are the dev server's, one per cron function, not a task queue's: a test that
    writes them holds this lock, shared by the suite's processes (xdist), until it is done.
    Otherwise another process's test can point a Schedule at its own task queue between this
    test writing it and triggering it."""
    with open(session_directory(tmp_path_factory) / "server-schedules.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"
