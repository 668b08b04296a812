"""Accepted means stored: events are written to the log in the caller's transaction, then routed.

`store()` adds events to the log inside the transaction that made the change they announce (a
signup and its `user/signup.completed` commit together, or neither does). After the commit the
caller routes them at once (`route()`), for low latency; whatever could not be routed then
(Temporal unreachable, a start refused) is routed by `run()`, a loop every API and worker
process runs, within seconds of Temporal answering again.

Several dispatchers share the work through leases: an event is claimed by one of them for
`lease` at a time (on PostgreSQL with FOR UPDATE SKIP LOCKED; on SQLite one writer at a time),
and each (event, function) route is recorded once, so no function receives an event twice.

While its loop runs, a dispatcher writes what it routed within `record_interval` (at once when a
batch has gathered), for every request of that time in one transaction, instead of one
transaction more per request: an event routed but not yet recorded is still under its lease, and
if the process dies before the write, the event is routed again once the lease ends, which
reaches no function twice (deterministic workflow ids). The loop reads the log for work of other
processes every `poll_interval`, and at once when a routing of its own is due again."""

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from ulid import ULID

from inngest_temporal.db import Sessions, is_postgresql, utcnow
from inngest_temporal.events import Event
from inngest_temporal.log_insert import insert_new
from inngest_temporal.outcomes import Outcomes
from inngest_temporal.router import Route, RouteFailure, Router
from inngest_temporal.store import EventRoute, StoredEvent

log = logging.getLogger("inngest_temporal.dispatcher")

T = TypeVar("T")
OnStored = Callable[[AsyncSession, list[Event]], Awaitable[None]]
MAX_RETRY_DELAY = timedelta(seconds=5)
DUE_MARGIN = 0.05  # seconds: see `_check_within`
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass
class Accepted:
    """What `store()` accepted: every id in request order, and the payloads of those it stored
    (an id already in the log is a duplicate: stored before, routed once). `pending`: those
    duplicates whose first copy is not routed yet (the loop or the process that stored it will)."""

    ids: list[str]
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        sessions: Sessions,
        router: Router,
        on_stored: OnStored | None = None,
        *,
        lease: timedelta = timedelta(seconds=30),
        batch_size: int = 200,
        # Both intervals are bookkeeping a process pays while idle or lightly loaded: a pass over
        # the log, a transaction of records, each a few milliseconds of CPU on a cold process
        # (at 2 requests/s, a write every 5 s cost the API about 3% of its CPU; every 15 s, 1.4%).
        # Well under the lease: an event routed and not yet recorded is left alone meanwhile by
        # other processes (routing it again would be harmless, only wasted).
        poll_interval: float = 15.0,
        record_interval: float = 15.0,
        route_timeout: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self.router = router
        self._on_stored = on_stored
        self._lease = lease
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._record_interval = record_interval
        self._route_timeout = route_timeout
        # After a failed attempt, requests stop waiting on Temporal for a moment: they answer
        # "stored, not routed yet" at once and leave the rest to the loop.
        self._unreachable_until = _LONG_AGO
        # The loop's state: what was routed and is not written yet, when to write it, when to
        # read the log next (loop clock), and what wakes it earlier.
        self._looping = False
        self._unwritten = Outcomes()
        self._write_at = 0.0
        self._check_at = 0.0
        # When routings of its own are due again (loop clock): each gets a pass of its own, even
        # when an earlier one's pass comes before it is due.
        self._own_due: list[float] = []
        self._wakeup: asyncio.Future[None] | None = None
        # A flush waits for one under way: once it returns, what was routed before is written.
        self._writing = asyncio.Lock()
        # Routings `post()` left running: the loop waits for them before its last write.
        self._posted: set[asyncio.Task[bool]] = set()

    @property
    def sessions(self) -> Sessions:
        """The database of the log (admission permits live there too)."""
        return self._sessions

    async def store(self, session: AsyncSession, events: list[Event]) -> Accepted:
        """Adds the events to the log in the caller's transaction, claimed for routing by this
        process (so other dispatchers leave them alone while the caller routes them)."""
        now = utcnow()
        now_ms = int(now.timestamp() * 1000)
        payloads: dict[str, dict[str, Any]] = {}
        ids: list[str] = []
        typed: dict[str, Event] = {}
        for e in events:
            stamped = e.model_copy(update={"id": e.id or str(ULID()), "ts": e.ts or now_ms})
            ids.append(stamped.id)
            if stamped.id not in payloads:
                payloads[stamped.id] = stamped.to_json()
                typed[stamped.id] = stamped
        rows = [
            {
                "id": event_id,
                "name": p["name"],
                "data": p["data"],
                "user": p.get("user"),
                "ts": p["ts"],
                "v": p.get("v"),
                "received_at": now,
                "lease_until": now + self._lease,
                "attempts": 1,
            }
            for event_id, p in payloads.items()
        ]
        inserted = await insert_new(session, rows)
        if self._on_stored is not None and inserted:
            await self._on_stored(session, [typed[i] for i in typed if i in inserted])
        duplicates = [i for i in payloads if i not in inserted and i not in self._unwritten.routed]
        pending = (
            list(
                await session.scalars(
                    select(StoredEvent.id).where(
                        StoredEvent.id.in_(duplicates), StoredEvent.routed_at.is_(None)
                    )
                )
            )
            if duplicates
            else []
        )
        return Accepted(
            ids=ids,
            stored={i: p for i, p in payloads.items() if i in inserted},
            pending=pending,
        )

    async def send(self, events: list[Event]) -> tuple[Accepted, bool]:
        """Stores the events in a transaction of their own, then routes them."""
        async with self._sessions() as session, session.begin():
            accepted = await self.store(session, events)
        return accepted, await self.route(accepted)

    async def post(self, events: list[Event]) -> Accepted:
        """Stores the events in a transaction of their own and answers: their routing goes on
        in the background (Inngest's sendEvent answers once its event API has the events, not
        once the functions started). A step that sends an event does not wait for Temporal's
        starts (15 ms of provision-account's 175, measured); what this process does not get to
        route, the loop of any process routes once the lease ends."""
        async with self._sessions() as session, session.begin():
            accepted = await self.store(session, events)
        if accepted.stored:
            task = asyncio.create_task(self.route(accepted))
            self._posted.add(task)
            task.add_done_callback(self._posted.discard)
        return accepted

    async def settle(self) -> None:
        """Waits for the routings `post()` left running (each gives up within its timeout)."""
        await asyncio.gather(*self._posted)

    async def route(self, accepted: Accepted) -> bool:
        """Routes what `store()` stored, after its transaction committed. True when every event
        (a duplicate's first copy included) reached every function it concerns; otherwise the
        loop will finish the work. Never raises: what was committed is accepted whatever happens
        here, and a caller must not answer as if nothing had been stored."""
        if not accepted.stored:
            return not accepted.pending
        if utcnow() < self._unreachable_until:
            await self._release_quietly(list(accepted.stored))
            return False
        work = [(payload, 1) for payload in accepted.stored.values()]
        try:
            async with asyncio.timeout(self._route_timeout):
                outcomes = await self._route(work)
            if self._looping:
                self._keep(outcomes)
            else:
                await self._write(outcomes)
        except Exception as err:  # stored is accepted: the loop retries
            log.warning("routing %d events failed, the dispatcher will retry: %r", len(work), err)
            self._unreachable_until = utcnow() + timedelta(seconds=1)
            await self._release_quietly(list(accepted.stored))
            return False
        return not outcomes.failed and not accepted.pending

    async def run(self) -> None:
        """Routes stored events that are due, and writes what requests routed, for as long as
        the process lives. What is routed but unwritten when it stops is written then."""
        clock = asyncio.get_running_loop()
        self._looping = True
        try:
            while True:
                routed = 0
                try:
                    if self._unwritten and clock.time() >= self._write_at:
                        await _to_the_end(self.flush())
                    if clock.time() >= self._check_at:
                        self._check_at = self._next_check(clock.time())
                        routed = await _to_the_end(self.route_due())
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("the dispatcher's pass failed; trying again")
                    self._check_at = min(self._check_at, clock.time() + 1)
                if routed < self._batch_size:
                    await self._sleep(clock)
                else:
                    self._check_at = clock.time()
        finally:
            await self.settle()
            self._looping = False
            try:
                await self.flush()
            except Exception as err:  # the leases will bring them back
                log.warning(
                    "could not record %d routings at exit: %r", len(self._unwritten.routed), err
                )

    async def flush(self) -> None:
        """Writes what was routed and is not written yet, in one transaction."""
        async with self._writing:
            if not self._unwritten:
                return
            outcomes, self._unwritten = self._unwritten, Outcomes()
            try:
                await self._write(outcomes)
            except BaseException:
                outcomes.add(self._unwritten)
                self._unwritten = outcomes
                self._write_at = asyncio.get_running_loop().time() + self._record_interval
                raise

    async def route_due(self) -> int:
        """One pass: claims up to a batch of due events, routes them and writes what it did.
        Returns how many it claimed."""
        claimed = await self._claim()
        if not claimed:
            return 0
        work = [(row.payload(), row.attempts) for row in claimed]
        try:
            async with asyncio.timeout(self._route_timeout * 2):
                outcomes = await self._route(work)
        except Exception as err:
            log.warning("routing %d stored events failed; retrying soon: %r", len(work), err)
            await self._release([row.id for row in claimed], attempts=claimed[0].attempts)
            return len(claimed)
        self._keep(outcomes)
        await self.flush()
        return len(claimed)

    def _keep(self, outcomes: Outcomes) -> None:
        """Keeps outcomes for the loop to write within `record_interval`."""
        clock = asyncio.get_running_loop()
        # The loop is woken only when its next wake-up must come sooner: once per interval.
        sooner = not self._unwritten
        if sooner:
            self._write_at = clock.time() + self._record_interval
        self._unwritten.add(outcomes)
        if len(self._unwritten.routed) >= self._batch_size and self._write_at > clock.time():
            # A busy moment: a batch is written at once, not one transaction holding SQLite's
            # write lock for a whole interval's records.
            self._write_at = clock.time()
            sooner = True
        if outcomes.failed:
            self._check_within(min(_seconds_until(at) for at, _ in outcomes.failed.values()))
        elif sooner:
            self._wake_loop()

    def _check_within(self, seconds: float) -> None:
        """The loop reads the log again once `seconds` have passed (a routing of its own is due
        then), a moment after: the due time is written in wall-clock time and the loop wakes by
        its own monotonic clock, and a wall clock running behind by a hair (NTP slewing it) would
        find nothing due yet, leaving the event to the next read of the log."""
        at = asyncio.get_running_loop().time() + seconds + DUE_MARGIN
        heapq.heappush(self._own_due, at)
        self._check_at = min(self._check_at, at)
        self._wake_loop()

    def _next_check(self, now: float) -> float:
        """After the pass that starts `now`: the next routing of its own not yet due, or the
        next read for others' work."""
        while self._own_due and self._own_due[0] <= now:
            heapq.heappop(self._own_due)
        return min([now + self._poll_interval, *self._own_due[:1]])

    def _wake_loop(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _sleep(self, clock: asyncio.AbstractEventLoop) -> None:
        """Until the next write or read of the log, or until something moves either sooner.
        A bare future and a timer: cancelling the loop then always ends it (Python 3.11's
        wait_for could swallow a cancel that came with its timeout)."""
        deadline = min(self._check_at, self._write_at) if self._unwritten else self._check_at
        self._wakeup = clock.create_future()
        timer = clock.call_at(deadline, self._wake_loop)
        try:
            await self._wakeup
        finally:
            timer.cancel()
            self._wakeup = None

    async def _claim(self) -> list[StoredEvent]:
        now = utcnow()
        # Most passes find nothing: a read answers that, without a write (and its commit), and
        # with a statement built once (building one costs more than running it).
        async with self._engine.connect() as connection:
            if await connection.scalar(_ANY_DUE, {"now": now}) is None:
                return []
        due = _DUE.params(now=now).limit(self._batch_size)
        async with self._sessions() as session, session.begin():
            if is_postgresql(session):
                due = due.with_for_update(skip_locked=True)
            claimed = await session.scalars(
                update(StoredEvent)
                .where(StoredEvent.id.in_(due.scalar_subquery()))
                .values(lease_until=now + self._lease, attempts=StoredEvent.attempts + 1)
                .returning(StoredEvent),
                execution_options={"synchronize_session": False},
            )
            return sorted(claimed.all(), key=lambda row: row.received_at)

    async def _route(self, work: list[tuple[dict[str, Any], int]]) -> Outcomes:
        """Routes every event of `work` (payload, attempt), and says what happened."""
        retried = [p["id"] for p, attempts in work if attempts > 1]
        done = await self._routed_functions(retried) if retried else {}
        # One gather for every call of every event: no task of its own per event.
        calls = [
            self.router.calls(p, skip=done.get(p["id"], set()), retrying=attempts > 1)
            for p, attempts in work
        ]
        answers = iter(await asyncio.gather(*(c for event_calls in calls for c in event_calls)))
        outcomes = [[next(answers) for _ in event_calls] for event_calls in calls]
        now = utcnow()
        done_now = Outcomes()
        for (payload, attempts), results in zip(work, outcomes, strict=True):
            errors = [r for r in results if isinstance(r, RouteFailure)]
            done_now.routes += [
                {
                    "event_id": payload["id"],
                    "function_id": r.function_id,
                    "workflow_id": r.workflow_id,
                    "action": r.action,
                    "routed_at": now,
                }
                for r in results
                if isinstance(r, Route)
            ]
            if errors:
                done_now.failed[payload["id"]] = (
                    now + _retry_delay(attempts),
                    "; ".join(f"{e.function_id}: {e.error!r}"[:500] for e in errors),
                )
            else:
                done_now.routed[payload["id"]] = now
        # A failure makes requests leave routing to the loop for a moment; a success ends that.
        self._unreachable_until = now + timedelta(seconds=1) if done_now.failed else _LONG_AGO
        return done_now

    async def _write(self, outcomes: Outcomes) -> None:
        async with self._engine.begin() as connection:
            await outcomes.write(connection)

    async def _routed_functions(self, event_ids: list[str]) -> dict[str, set[str]]:
        """The functions each event already reached: as recorded, or routed here, unwritten."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(EventRoute.event_id, EventRoute.function_id).where(
                    EventRoute.event_id.in_(event_ids)
                )
            )
            done: dict[str, set[str]] = {}
            for event_id, function_id in rows.tuples():
                done.setdefault(event_id, set()).add(function_id)
        for event_id in event_ids:
            if unwritten := self._unwritten.functions_reached(event_id):
                done.setdefault(event_id, set()).update(unwritten)
        return done

    async def _release_quietly(self, event_ids: list[str]) -> None:
        """`_release`, or, when even that fails (the database went away after the commit), the
        lease: the loop takes the events up once it runs out."""
        try:
            await self._release(event_ids)
        except Exception as err:
            log.warning("could not release %d events; their lease will: %r", len(event_ids), err)

    async def _release(self, event_ids: list[str], attempts: int = 1) -> None:
        """Gives claimed events back to the loop, due after a short delay."""
        delay = _retry_delay(attempts)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(StoredEvent)
                .where(StoredEvent.id.in_(event_ids), StoredEvent.routed_at.is_(None))
                .values(lease_until=None, next_attempt_at=utcnow() + delay)
            )
        if self._looping:
            self._check_within(delay.total_seconds())


_DUE = (
    select(StoredEvent.id)
    .where(
        StoredEvent.routed_at.is_(None),
        or_(StoredEvent.lease_until.is_(None), StoredEvent.lease_until < bindparam("now")),
        or_(StoredEvent.next_attempt_at.is_(None), StoredEvent.next_attempt_at <= bindparam("now")),
    )
    .order_by(StoredEvent.received_at)
)
_ANY_DUE = _DUE.limit(1)


async def _to_the_end(work: Coroutine[Any, Any, T]) -> T:
    """Runs `work` to its end even when the caller is cancelled meanwhile (then cancelled after):
    a transaction cut in the middle can keep SQLite's write lock until its connection is
    collected, and the write at exit would wait for it."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with suppress(Exception):
            await task
        raise


def _seconds_until(moment: datetime) -> float:
    return max((moment - utcnow()).total_seconds(), 0.0)


def _retry_delay(attempts: int) -> timedelta:
    delay: timedelta = timedelta(seconds=0.5) * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_RETRY_DELAY)
