"""SQLite runs on the event loop's own thread, and waiting for its write lock never stops the loop:
a transaction that finds the database locked (by another process, or by a transaction of this
process that is waiting on something else) waits in asyncio, goes on once the lock is free, and
gives up with "database is locked" after the lock timeout."""

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from inngest_temporal import create_engine, session_factory
from inngest_temporal.sqlite_driver import Connection

HELD = 0.3  # seconds a transaction holds the write lock in these tests


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "locks.db"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE marks (name TEXT)"))
    yield engine
    await engine.dispose()


async def ticks_while(work: "asyncio.Future[object]") -> int:
    """How often a 10 ms ticker ran on the loop until `work` finished."""
    count = 0
    while not work.done():
        await asyncio.sleep(0.01)
        count += 1
    await work
    return count


async def test_statements_run_without_a_thread_of_their_own(engine: AsyncEngine) -> None:
    await engine.dispose()  # no connection open
    threads = threading.active_count()
    sessions = session_factory(engine)
    for name in ("a", "b", "c"):
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO marks VALUES (:name)"), {"name": name})
    assert threading.active_count() == threads  # aiosqlite starts one per connection


async def test_a_transaction_waits_for_another_of_this_process_without_stopping_the_loop(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    order: list[str] = []

    async def slow() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO marks VALUES ('slow')"))
            await asyncio.sleep(HELD)  # holds the write lock across an await
            order.append("slow")

    async def quick() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO marks VALUES ('quick')"))
            order.append("quick")

    holder = asyncio.ensure_future(slow())
    await asyncio.sleep(0.01)
    ticks = await ticks_while(asyncio.ensure_future(quick()))
    await holder
    assert order == ["slow", "quick"]
    assert ticks >= 5  # the loop kept running while `quick` waited (blocked, it would not tick)
    async with engine.connect() as connection:
        assert (await connection.scalar(text("SELECT count(*) FROM marks"))) == 2


async def test_a_transaction_waits_for_another_process_without_stopping_the_loop(
    engine: AsyncEngine, path: Path
) -> None:
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO marks VALUES ('other')")
    asyncio.get_running_loop().call_later(HELD, other.execute, "COMMIT")

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO marks VALUES ('ours')"))

    ticks = await ticks_while(asyncio.ensure_future(write()))
    other.close()
    assert ticks >= 5
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT name FROM marks"))).scalars().all()
    assert rows == ["other", "ours"]


async def test_waiting_for_the_lock_gives_up_after_the_lock_timeout(path: Path) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    connection = await Connection(str(path), lock_timeout=0.2, isolation_level=None)
    clock = asyncio.get_running_loop()
    started = clock.time()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await connection.cursor().execute("BEGIN IMMEDIATE")
    assert clock.time() - started >= 0.15
    other.execute("ROLLBACK")
    other.close()
    await connection.close()
