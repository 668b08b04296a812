"""An event log of its own for each engine test, on SQLite and on PostgreSQL: the engine's tables
only, so a test's dispatchers claim its events and nobody else's (the session database holds
other tests' events, which a dispatcher with the test's small registry would otherwise mark as
routed to nothing)."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from inngest_temporal import Sessions, create_engine, event_log_metadata, session_factory


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
