"""Engine tests: toy functions of their own (tests/engine/functions.py, pings.py) on a worker of
their own, with a dispatcher over the session's database; and, for the tests of the event log
itself, an event log of its own per test, on SQLite and on PostgreSQL (the engine's tables only,
so a test's dispatchers claim its events and nobody else's: the session database holds other
tests' events, which a dispatcher with the test's small registry would mark as routed to
nothing)."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from inngest_temporal import (
    Dispatcher,
    Event,
    FunctionOverride,
    Registry,
    Router,
    Sessions,
    activity_methods,
    create_engine,
    event_log_metadata,
    session_factory,
    worker_with_fakes,
)
from tests.conftest import TEST_BUILD_ID
from tests.engine.functions import ToyActivities


@pytest.fixture(autouse=True)
def journal_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal.jsonl"
    monkeypatch.setenv("ENGINE_TEST_JOURNAL", str(path))
    return path


def dispatcher_of(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    functions: Iterable[type],
    events: Iterable[type[Event]] = (),
    overrides: dict[str, FunctionOverride] | None = None,
) -> Dispatcher:
    return Dispatcher(sessions, Router(client, task_queue, Registry(functions, events, overrides)))


@asynccontextmanager
async def engine_worker(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    functions: Iterable[type],
    fakes: Iterable[Callable[..., Any]] = (),
    events: Iterable[type[Event]] = (),
    overrides: dict[str, FunctionOverride] | None = None,
    **worker_options: Any,
) -> AsyncIterator[Dispatcher]:
    """A worker for `functions` (with `fakes` replacing activities of the same name); yields the
    dispatcher that sends events to them."""
    sender = dispatcher_of(client, sessions, task_queue, functions, events, overrides)
    activities = activity_methods([ToyActivities()])
    options = {"build_id": TEST_BUILD_ID, **worker_options}
    async with worker_with_fakes(client, sender, task_queue, activities, fakes, **options):
        yield sender


@dataclass
class LogDatabase:
    """Where the log is; `sessions()` opens a pool of its own, as another process would."""

    backend: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def sessions(self) -> AbstractAsyncContextManager[Sessions]:
        return _pool(lambda: create_engine(self.url, **self.options))


@asynccontextmanager
async def _pool(make: Callable[[], AsyncEngine]) -> AsyncIterator[Sessions]:
    engine = make()
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def log_server(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """The backend and its URL (resolved outside the event loop: the session's PostgreSQL is
    migrated with asyncio.run when first asked for)."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    return "postgresql", str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def log_db(log_server: tuple[str, str]) -> AsyncIterator[LogDatabase]:
    backend, url = log_server
    if backend == "sqlite":
        db = LogDatabase("sqlite", url)
    else:
        postgres_url = url
        schema = f"log_{uuid.uuid4().hex[:12]}"
        db = LogDatabase(
            "postgresql",
            postgres_url,
            {"connect_args": {"server_settings": {"search_path": schema}}},
        )
        setup = create_engine(postgres_url)
        async with setup.begin() as connection:
            await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await setup.dispose()
    engine = create_engine(db.url, **db.options)
    async with engine.begin() as connection:
        await connection.run_sync(event_log_metadata.create_all)
    await engine.dispose()
    yield db
