"""SQLite under SQLAlchemy's async engine, run on the event loop's own thread.

aiosqlite runs every call on a thread of its own: a statement costs three or four hand-offs between
threads, and in a busy worker most of that is waiting for the event loop to take the answer back,
with SQLite's write lock held all the while (every transaction takes it when it begins, db.py).
Our statements touch a row or a few, microseconds of SQLite, so they run inline instead: a
transaction with no other await in it runs from BEGIN to COMMIT without yielding, and holds the
lock only for its own work (a signup's transaction, its user and its event: 1.9 -> 0.7 ms of CPU).

What must never block the loop is waiting for the lock. Connections wait zero (busy_timeout 0),
and a statement outside a transaction (BEGIN IMMEDIATE, a pragma) or a COMMIT that finds the
database locked, by another process or by a transaction of this one waiting on something else, is
tried again after a short asyncio sleep, for up to `LOCK_TIMEOUT` (SQLite's documentation: those
are the statements that are safe to retry). Inside a transaction a statement does not wait: in
WAL mode the transaction that began with BEGIN IMMEDIATE already holds the lock.

It stands in for the aiosqlite module under SQLAlchemy's own aiosqlite dialect (the URL stays
`sqlite+aiosqlite://`): `create_engine(..., module=dbapi())`. A long query would block the loop
for its duration; that is PostgreSQL's job."""

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Iterable
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

LOCK_TIMEOUT = 30.0  # seconds, as long as the busy_timeout aiosqlite connections had
FIRST_RETRY = 0.0005
LONGEST_RETRY = 0.005
_LOCKED = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
# What the dialect reads from the driver's module besides connect().
_FROM_SQLITE3 = (
    "DatabaseError",
    "Error",
    "IntegrityError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "sqlite_version",
    "sqlite_version_info",
)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The module SQLAlchemy's aiosqlite dialect drives, running sqlite3 inline."""
    module = SimpleNamespace(
        connect=partial(Connection, lock_timeout=LOCK_TIMEOUT),
        Connection=Connection,
        **{name: getattr(sqlite3, name) for name in _FROM_SQLITE3},
    )
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)  # type: ignore[arg-type]


def _is_locked(err: sqlite3.OperationalError) -> bool:
    return getattr(err, "sqlite_errorcode", 0) & 0xFF in _LOCKED


async def _when_unlocked(statement: Callable[[], object], lock_timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lock_timeout
    delay = FIRST_RETRY
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as err:
            if not _is_locked(err) or loop.time() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, LONGEST_RETRY)


class Cursor:
    """The async cursor SQLAlchemy's adapter expects, over a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor, lock_timeout: float) -> None:
        self._cursor = cursor
        self._lock_timeout = lock_timeout

    async def __aenter__(self) -> "Cursor":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> "Cursor":
        if self._cursor.connection.in_transaction:
            self._cursor.execute(sql, parameters)
        else:
            await _when_unlocked(partial(self._cursor.execute, sql, parameters), self._lock_timeout)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> "Cursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Inline:
    """aiosqlite's queue of calls for its thread, which the adapter uses to set isolation_level:
    here the call runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[None], Callable[[], object]]) -> None:
        future, call = item
        try:
            call()
        except Exception as err:
            future.set_exception(err)
        else:
            future.set_result(None)


class _NoThread:
    daemon = True  # the adapter marks aiosqlite's thread a daemon; there is none


class Connection:
    """What SQLAlchemy's adapter uses of an aiosqlite connection, over a sqlite3 one."""

    def __init__(self, database: str, *, lock_timeout: float, **options: Any) -> None:
        # No waiting inside SQLite (see the module's docstring); any thread may close it.
        self._options = {**options, "timeout": 0, "check_same_thread": False}
        self._database = database
        self._lock_timeout = lock_timeout
        self._conn: sqlite3.Connection | None = None
        self._thread = _NoThread()
        self._tx = _Inline()

    def __await__(self) -> Generator[Any, None, "Connection"]:
        return self._connect().__await__()

    async def _connect(self) -> "Connection":
        self._conn = sqlite3.connect(self._database, **self._options)
        return self

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._open().cursor(), self._lock_timeout)

    async def commit(self) -> None:
        await _when_unlocked(self._open().commit, self._lock_timeout)

    async def rollback(self) -> None:
        self._open().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
