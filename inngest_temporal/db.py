"""The database the engine keeps its event log in (the application's own: SQLite or PostgreSQL),
through SQLAlchemy's async engine. The application uses the same helpers for its tables."""

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Insert, Table, TypeDecorator, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from inngest_temporal import sqlite_driver

Sessions = async_sessionmaker[AsyncSession]


def create_engine(url: str, **options: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Statements run on the event loop's thread, and waiting for the write lock yields to it
        # (sqlite_driver.py).
        engine = _create_async_engine(url, module=sqlite_driver.dbapi(), **options)
        # The API and every worker process write to the same file: WAL lets readers and one
        # writer proceed together.
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # Every transaction takes the write lock when it begins. A transaction that read first
        # and wrote later would otherwise fail at once ("database is locked", no waiting) when
        # another connection wrote in between: SQLite cannot upgrade a stale read snapshot.
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    return _create_async_engine(
        url, **{"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True, **options}
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN (deferred) is turned off: `_begin_immediate` begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignore(
    on: AsyncSession | AsyncConnection | Connection, model: type[Any] | Table
) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the basis of idempotent steps."""
    dialect = on.get_bind().dialect if isinstance(on, AsyncSession) else on.dialect
    return _insert_ignore(dialect.name, model)  # type: ignore[arg-type]


@cache
def _insert_ignore(dialect: str, model: type[Any] | Table) -> Insert:
    # Built once per table: a statement object is immutable, and reusing it spares SQLAlchemy
    # building it and its cache key on every call (a good part of a small insert's cost).
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = module.insert(model).on_conflict_do_nothing()
    return stmt


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        result: datetime = value
        return result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
