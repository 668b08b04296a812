"""While its loop runs, a dispatcher writes what a moment's requests routed in one transaction,
not one more per request; what it routed and never wrote (the process died) is routed again once
its lease ends, and reaches no function twice; a batch is written at once, not after the
interval; a stopped loop writes what it kept; a routing of its own that failed is retried at
once, not at the next read of the log (each of them, when they fall due one after another, and
when the wall clock runs slow).
Temporal is a recording fake (tests/engine/fake_temporal.py), on SQLite and on PostgreSQL."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

import inngest_temporal.dispatcher as dispatcher_module
from inngest_temporal import Accepted, Dispatcher, Router, Sessions
from inngest_temporal.store import EventRoute, StoredEvent
from tests.engine.conftest import LogDatabase
from tests.engine.fake_temporal import FakeTemporal
from tests.engine.pings import ping, ping_registry
from tests.support import eventually, unique

REQUESTS = 10
RECORD_INTERVAL = 0.5


def dispatcher(sessions: Sessions, server: FakeTemporal, **options: Any) -> Dispatcher:
    router = Router(server.client(), "tq", ping_registry())
    return Dispatcher(sessions, router, **{"record_interval": RECORD_INTERVAL, **options})


@asynccontextmanager
async def looping(d: Dispatcher) -> AsyncIterator[asyncio.Task[None]]:
    loop = asyncio.create_task(d.run())
    await asyncio.sleep(0)  # the loop started
    try:
        yield loop
    finally:
        loop.cancel()
        with suppress(asyncio.CancelledError):
            await loop


async def stored(d: Dispatcher, sessions: Sessions, count: int) -> list[Accepted]:
    """`count` events stored as `count` requests would store them, not routed yet."""
    accepted = []
    for _ in range(count):
        async with sessions() as session, session.begin():
            accepted.append(await d.store(session, [ping(unique("evt"), unique("key"))]))
    return accepted


async def recorded(sessions: Sessions, event_ids: list[str]) -> tuple[int, int]:
    """How many of the events are routed, and how many routes they have, as the log says."""
    async with sessions() as session:
        routed = await session.scalar(
            select(func.count()).where(
                StoredEvent.id.in_(event_ids), StoredEvent.routed_at.is_not(None)
            )
        )
        routes = await session.scalar(
            select(func.count()).where(EventRoute.event_id.in_(event_ids))
        )
    return routed or 0, routes or 0


def ids(accepted: list[Accepted]) -> list[str]:
    return [i for a in accepted for i in a.ids]


async def test_a_moments_requests_are_recorded_in_one_transaction(log_db: LogDatabase) -> None:
    async with log_db.sessions() as sessions:
        d = dispatcher(sessions, FakeTemporal())
        requests = await stored(d, sessions, REQUESTS)
        commits = 0

        def count(_connection: Any) -> None:
            nonlocal commits
            commits += 1

        event.listen(sessions.kw["bind"].sync_engine, "commit", count)
        async with looping(d):
            for request in requests:  # one after the other, the loop awake in between
                assert await d.route(request)
                await asyncio.sleep(0.01)
            functions = len(ping_registry().triggered_by["test/ping"])
            expected = (REQUESTS, REQUESTS * functions)

            async def all_recorded() -> bool:
                return await recorded(sessions, ids(requests)) == expected

            await eventually(all_recorded, timeout=10)
    # Ten requests, one write (two if a busy machine spread them over the interval's end); the
    # loop's reads of the log commit nothing.
    assert commits <= 2


async def test_routed_but_never_recorded_is_routed_again_and_reaches_no_function_twice(
    log_db: LogDatabase,
) -> None:
    server = FakeTemporal()
    async with log_db.sessions() as dying_pool, log_db.sessions() as other_pool:
        dying = dispatcher(dying_pool, server, lease=timedelta(seconds=1))
        requests = await stored(dying, dying_pool, 3)
        # Routed, then the process died before its write: Temporal has the runs, the log not.
        for accepted in requests:
            for payload in accepted.stored.values():
                await dying.router.route(payload)
        started = dict(server.running)

        other = dispatcher(other_pool, server, poll_interval=0.1)
        async with looping(other):

            async def all_recorded() -> bool:
                return (await recorded(other_pool, ids(requests)))[0] == len(requests)

            await eventually(all_recorded, timeout=10)

    assert server.running == started  # the second routing started nothing
    assert max(server.calls.values()) == 2  # though it did route again


async def test_a_stopped_loop_writes_what_it_kept(log_db: LogDatabase) -> None:
    async with log_db.sessions() as sessions:
        # Long enough that only the stop can have written them.
        d = dispatcher(sessions, FakeTemporal(), record_interval=3600)
        requests = await stored(d, sessions, 2)
        async with looping(d):
            assert all([await d.route(a) for a in requests])
            assert (await recorded(sessions, ids(requests)))[0] == 0
        assert (await recorded(sessions, ids(requests)))[0] == 2


async def test_a_full_batch_is_written_without_waiting_for_the_interval(
    log_db: LogDatabase,
) -> None:
    async with log_db.sessions() as sessions:
        d = dispatcher(sessions, FakeTemporal(), record_interval=3600, batch_size=3)
        requests = await stored(d, sessions, 3)
        async with looping(d):
            for a in requests[:2]:
                assert await d.route(a)
            await asyncio.sleep(0.1)
            assert (await recorded(sessions, ids(requests)))[0] == 0  # two wait for the interval
            assert await d.route(requests[2])

            async def written() -> bool:
                return (await recorded(sessions, ids(requests)))[0] == 3

            await eventually(written, timeout=5)


async def _a_failed_routing_is_retried_before_the_next_read(log_db: LogDatabase) -> None:
    server = FakeTemporal(unavailable=1)
    async with log_db.sessions() as sessions:
        # It would read the log for others' work only in an hour.
        d = dispatcher(sessions, server, poll_interval=3600)
        [request] = await stored(d, sessions, 1)
        async with looping(d):
            await asyncio.sleep(0.05)  # its first read of the log is behind it
            assert not await d.route(request)

            async def routed() -> bool:
                return (await recorded(sessions, request.ids))[0] == 1

            await eventually(routed, timeout=10)


async def test_a_failed_routing_of_its_own_is_retried_before_the_next_read(
    log_db: LogDatabase,
) -> None:
    await _a_failed_routing_is_retried_before_the_next_read(log_db)


async def test_a_failed_routing_is_retried_on_time_when_the_wall_clock_runs_slow(
    log_db: LogDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due time is wall-clock time, the loop's wake-up monotonic: with a wall clock 1%
    slow (NTP slewing it, or a VM's), the loop still finds the event due when it wakes."""
    started, monotonic = datetime.now(UTC), time.monotonic()
    monkeypatch.setattr(
        dispatcher_module,
        "utcnow",
        lambda: started + timedelta(seconds=(time.monotonic() - monotonic) * 0.99),
    )
    await _a_failed_routing_is_retried_before_the_next_read(log_db)


async def test_failed_routings_due_one_after_another_are_each_retried_before_the_next_read(
    log_db: LogDatabase,
) -> None:
    """The first one's retry comes before the second is due: the second still gets its own."""
    server = FakeTemporal(unavailable=1)
    async with log_db.sessions() as sessions:
        d = dispatcher(sessions, server, poll_interval=3600)
        first, second = await stored(d, sessions, 2)
        async with looping(d):
            await asyncio.sleep(0.05)  # its first read of the log is behind it
            assert not await d.route(first)
            await asyncio.sleep(0.2)
            assert not await d.route(second)  # Temporal just failed: left to the loop

            async def routed() -> bool:
                return (await recorded(sessions, first.ids + second.ids))[0] == 2

            await eventually(routed, timeout=10)
