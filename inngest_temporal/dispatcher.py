"""Accepted means stored: events are written to the log in the caller's transaction, then routed.

`store()` adds events to the log inside the transaction that made the change they announce (a
signup and its `user/signup.completed` commit together, or neither does). After the commit the
caller routes them at once (`route()`), for low latency; whatever could not be routed then
(Temporal unreachable, a start refused) is routed by `run()`, a loop every API and worker
process runs, within seconds of Temporal answering again.

Several dispatchers share the work through leases: an event is claimed by one of them for
`lease` at a time (on PostgreSQL with FOR UPDATE SKIP LOCKED; on SQLite one writer at a time),
and each (event, function) route is recorded once, so no function receives an event twice."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from ulid import ULID

from inngest_temporal.db import Sessions, insert_ignore, is_postgresql, utcnow
from inngest_temporal.events import Event
from inngest_temporal.router import Route, RouteFailure, Router
from inngest_temporal.store import EventRoute, StoredEvent

log = logging.getLogger("inngest_temporal.dispatcher")

OnStored = Callable[[AsyncSession, list[Event]], Awaitable[None]]
MAX_RETRY_DELAY = timedelta(seconds=5)
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
        poll_interval: float = 1.0,
        route_timeout: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self.router = router
        self._on_stored = on_stored
        self._lease = lease
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._route_timeout = route_timeout
        # After a failed attempt, requests stop waiting on Temporal for a moment: they answer
        # "stored, not routed yet" at once and leave the rest to the loop.
        self._unreachable_until = _LONG_AGO

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
        inserted = set(
            (
                await session.scalars(
                    insert_ignore(session, StoredEvent).returning(StoredEvent.id), rows
                )
            ).all()
        )
        if self._on_stored is not None and inserted:
            await self._on_stored(session, [typed[i] for i in typed if i in inserted])
        duplicates = [i for i in payloads if i not in inserted]
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
            routed = await asyncio.wait_for(self._route(work), self._route_timeout)
        except Exception as err:  # stored is accepted: the loop retries
            log.warning("routing %d events failed, the dispatcher will retry: %r", len(work), err)
            self._unreachable_until = utcnow() + timedelta(seconds=1)
            await self._release_quietly(list(accepted.stored))
            return False
        return routed and not accepted.pending

    async def run(self) -> None:
        """Routes stored events that are due, for as long as the process lives."""
        while True:
            try:
                routed = await self.route_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the dispatcher's pass failed; trying again")
                routed = 0
            if routed < self._batch_size:
                await asyncio.sleep(self._poll_interval)

    async def route_due(self) -> int:
        """One pass: claims up to a batch of due events and routes them. Returns how many."""
        claimed = await self._claim()
        if not claimed:
            return 0
        work = [(row.payload(), row.attempts) for row in claimed]
        try:
            await asyncio.wait_for(self._route(work), self._route_timeout * 2)
        except Exception as err:
            log.warning("routing %d stored events failed; retrying soon: %r", len(work), err)
            await self._release([row.id for row in claimed], attempts=claimed[0].attempts)
        return len(claimed)

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

    async def _route(self, work: list[tuple[dict[str, Any], int]]) -> bool:
        retried = [p["id"] for p, attempts in work if attempts > 1]
        done = await self._routed_functions(retried) if retried else {}
        outcomes = await asyncio.gather(
            *(
                self.router.route(p, skip=done.get(p["id"], set()), retrying=attempts > 1)
                for p, attempts in work
            )
        )
        now = utcnow()
        routes: list[dict[str, Any]] = []
        complete: list[str] = []
        failed: dict[str, tuple[int, str]] = {}
        for (payload, attempts), results in zip(work, outcomes, strict=True):
            errors = [r for r in results if isinstance(r, RouteFailure)]
            routes += [
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
                failed[payload["id"]] = (
                    attempts,
                    "; ".join(f"{e.function_id}: {e.error!r}"[:500] for e in errors),
                )
            else:
                complete.append(payload["id"])
        async with self._sessions() as session, session.begin():
            if routes:
                await session.execute(insert_ignore(session, EventRoute), routes)
            if complete:
                await session.execute(
                    update(StoredEvent)
                    .where(StoredEvent.id.in_(complete))
                    .values(routed_at=now, lease_until=None, last_error=None),
                    execution_options={"synchronize_session": False},
                )
            for event_id, (attempts, error) in failed.items():
                await session.execute(
                    update(StoredEvent)
                    .where(StoredEvent.id == event_id)
                    .values(
                        lease_until=None,
                        next_attempt_at=now + _retry_delay(attempts),
                        last_error=error,
                    )
                )
        # A failure makes requests leave routing to the loop for a moment; a success ends that.
        self._unreachable_until = now + timedelta(seconds=1) if failed else _LONG_AGO
        return not failed

    async def _routed_functions(self, event_ids: list[str]) -> dict[str, set[str]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(EventRoute.event_id, EventRoute.function_id).where(
                    EventRoute.event_id.in_(event_ids)
                )
            )
            done: dict[str, set[str]] = {}
            for event_id, function_id in rows.tuples():
                done.setdefault(event_id, set()).add(function_id)
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
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(StoredEvent)
                .where(StoredEvent.id.in_(event_ids), StoredEvent.routed_at.is_(None))
                .values(lease_until=None, next_attempt_at=utcnow() + _retry_delay(attempts))
            )


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


def _retry_delay(attempts: int) -> timedelta:
    delay: timedelta = timedelta(seconds=0.5) * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_RETRY_DELAY)
