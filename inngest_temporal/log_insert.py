"""Adding accepted events to the log, in the caller's transaction, and saying which were new.

Most requests carry one event. On SQLite (the default database) it goes straight to the driver,
as a statement prepared once per engine: through SQLAlchemy's execution of a compiled insert (its
execution context, parameter processing and result) it cost 0.39M instructions, this way 0.25M,
most of it SQLite's own work (callgrind); 0.11M of the 6.1M a signup costs the API outside
Temporal's client (bench/api_instructions.py). The parameters still go through each column
type's own bind processor for the engine's dialect, so the row is stored exactly as SQLAlchemy
stores it, and the statement runs on the session's connection, inside its transaction (begun by
the engine's BEGIN IMMEDIATE). What this skips is only SQLAlchemy's per-statement events (none
is registered) and its echo.
PostgreSQL, and several events at once, go through SQLAlchemy Core."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from inngest_temporal.db import insert_ignore
from inngest_temporal.store import events_table

# What `Dispatcher.store` writes of each event (the other columns keep their defaults).
COLUMNS = ("id", "name", "data", "user", "ts", "v", "received_at", "lease_until", "attempts")


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Inserts the rows (`COLUMNS`) not in the log yet, and says which."""
    connection = await session.connection()
    if len(rows) == 1 and connection.dialect.name == "sqlite":
        row = rows[0]
        return {row["id"]} if await _insert_one(connection, row) else set()
    return await connection.run_sync(_insert_core, rows)


def _insert_core(connection: Any, rows: list[dict[str, Any]]) -> set[str]:
    insert = insert_ignore(connection, events_table)
    if len(rows) == 1:
        # Whether the one row was new is the row count, with no RETURNING to fetch.
        return {rows[0]["id"]} if connection.execute(insert, rows[0]).rowcount == 1 else set()
    return set(connection.scalars(insert.returning(events_table.c.id), rows).all())


async def _insert_one(connection: AsyncConnection, row: dict[str, Any]) -> bool:
    prepared = _prepared(connection.dialect)
    raw = await connection.get_raw_connection()
    # The driver's own connection: inngest_temporal.sqlite_driver's, statements run inline.
    driver: Any = raw.driver_connection
    cursor = driver.cursor()
    try:
        await cursor.execute(prepared.sql, prepared.parameters(row))
        return bool(cursor.rowcount == 1)
    finally:
        await cursor.close()


@dataclass(frozen=True)
class _Prepared:
    sql: str
    columns: tuple[str, ...]  # in the statement's order
    processors: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            row[c] if process is None else process(row[c])
            for c, process in zip(self.columns, self.processors, strict=True)
        )


@lru_cache(maxsize=16)  # one per engine (dialect) in use
def _prepared(dialect: Dialect) -> _Prepared:
    statement = (
        sqlite.insert(events_table)
        .on_conflict_do_nothing()
        .values({c: bindparam(c) for c in COLUMNS})
        .compile(dialect=dialect)
    )
    columns = tuple(statement.positiontup or ())
    processors = tuple(
        events_table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
    )
    return _Prepared(statement.string, columns, processors)
