"""Admission kept in the database (the event log's own): throttle slots and concurrency permits
taken by a local activity, so a run with room pays one small transaction and no server round
trip, and no gate workflow runs beside the functions.

- throttle: each run reserves the next slot of its key's sliding window (at most `limit` slots
  in any window of `period` plus a margin) and sleeps until it, with a durable timer: runs start
  in arrival order, at Inngest's pace, with nothing to hand back.
- concurrency: a run holds a permit while it runs and returns it when it ends; a run finding no
  room waits in line, and the run returning a permit hands it to the first in line with a signal.
  The first in line checks every `probe_seconds` that the holders are still running, so the
  permit of a run that is terminated, timed out or reset returns within that.

Transactions on one key are serialised (SQLite: one writer; PostgreSQL: an advisory lock per
key), so the limits hold across any number of worker processes."""

import hashlib
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from inngest_temporal.db import Sessions, UtcDateTime, insert_ignore, is_postgresql, utcnow
from inngest_temporal.registry import Registry
from inngest_temporal.store import LogBase

GRANTED_SIGNAL = "gate-granted"
MAX_GATE_ID = 500
# A granted run reaches its first step tens of ms later, more on a busy worker; a window of
# exactly one period let a "3 per 2 s" throttle put 4 first steps within 2 s. The margin keeps
# the limit true where users see it, at the steps.
MIN_THROTTLE_MARGIN = timedelta(milliseconds=250)
MAX_THROTTLE_MARGIN = timedelta(seconds=1)
SAME_MOMENT = timedelta(milliseconds=50)


class Holder(BaseModel):
    """A run: its run id too, so a reset run (same workflow id, new run) is a new holder and the
    old one's permit can be found gone."""

    workflow_id: str
    run_id: str


class PermitRequest(BaseModel):
    task_queue: str
    function_id: str
    kind: Literal["throttle", "concurrency"]
    key: str
    holder: Holder
    # The run's clock (the server's) when it asks: throttle slots are kept on it, so a run's
    # durable timer and the slots it sleeps to agree, whatever the workers' clocks say (and on
    # a time-skipping server).
    at: datetime | None = None

    @property
    def gate_id(self) -> str:
        # Per task queue: deployments sharing a database keep their limits apart.
        gate_id = f"gate/{self.task_queue}/{self.function_id}/{self.kind}/{self.key}"
        if len(gate_id) <= MAX_GATE_ID:
            return gate_id
        digest = hashlib.sha256(self.key.encode()).hexdigest()
        return f"gate/{self.task_queue}/{self.function_id}/{self.kind}/sha256:{digest}"


class Permit(BaseModel):
    """The answer to a request. throttle: `wait_seconds` until its slot (`slot`); concurrency:
    `granted`, or when to look again (`recheck_seconds`)."""

    granted: bool
    wait_seconds: float = 0.0
    slot: datetime | None = None
    first: bool = False
    recheck_seconds: float = 0.0


class PermitRow(LogBase):
    """A concurrency permit (`holding`) or a place in line for one; `id` orders the line."""

    __tablename__ = "permits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gate_id: Mapped[str] = mapped_column(String(MAX_GATE_ID + 100))
    workflow_id: Mapped[str] = mapped_column(String(1000))
    run_id: Mapped[str] = mapped_column(String(64))
    holding: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("gate_id", "workflow_id", "run_id", name="uq_permits_holder"),
        Index("ix_permits_line", "gate_id", "holding", "id"),
    )


class ThrottleSlot(LogBase):
    """A slot a throttled run reserved (past ones are kept for one window, then pruned)."""

    __tablename__ = "throttle_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gate_id: Mapped[str] = mapped_column(String(MAX_GATE_ID + 100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_throttle_slots_gate_at", "gate_id", "at"),)


def throttle_margin(period: timedelta) -> timedelta:
    return min(max(period / 10, MIN_THROTTLE_MARGIN), MAX_THROTTLE_MARGIN)


class PermitActivities:
    def __init__(
        self, client: Client, sessions: Sessions, registry: Registry, probe_seconds: float = 30.0
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._registry = registry
        self.probe_seconds = probe_seconds

    @activity.defn(name="take-permit")
    async def take(self, request: PermitRequest) -> Permit:
        # Limits are read here, outside the workflow, so an override in settings applies to
        # running workers without touching workflow determinism.
        spec = self._registry.effective(request.function_id)
        if request.kind == "throttle":
            assert spec.throttle is not None
            return await self._reserve_slot(request, spec.throttle.limit, spec.throttle.period)
        assert spec.concurrency is not None
        limit = spec.concurrency.limit
        async with self._sessions() as session, session.begin():
            await _lock(session, request.gate_id)
            counts = await _counts(session, request.gate_id)
            has_room = counts[True] < limit and not counts[False]
            joined = await session.scalar(
                insert_ignore(session, PermitRow)
                .values(**_row(request, holding=has_room))
                .returning(PermitRow.id)
            )
            if has_room and joined is not None:
                return Permit(granted=True)
            # In line (or asking again): a raised limit may have freed permits meanwhile.
            promoted = await _fill(session, request.gate_id, limit, counts[True])
            permit = await _answer(session, request) or Permit(granted=False)
        await self._tell(request.gate_id, _others(promoted, request), limit)
        return self._recheck(permit)

    @activity.defn(name="check-permit")
    async def check(self, request: PermitRequest) -> Permit:
        """A waiting run's periodic look: whether its permit came (a signal can be lost with the
        worker that sent it); the first in line also frees the permits of runs that are gone."""
        concurrency = self._registry.effective(request.function_id).concurrency
        assert concurrency is not None
        async with self._sessions() as session:
            seen = await _answer(session, request)
            if seen is not None and (seen.granted or not seen.first):
                return self._recheck(seen)  # a read: only the first in line writes
            holders = await _holders(session, request.gate_id)
        gone = [row_id for row_id, holder in holders if not await self._running(holder)]
        async with self._sessions() as session, session.begin():
            await _lock(session, request.gate_id)
            if gone:
                await session.execute(delete(PermitRow).where(PermitRow.id.in_(gone)))
            # Its place kept, or, had it none, taken at the end of the line.
            await session.execute(
                insert_ignore(session, PermitRow).values(**_row(request, holding=False))
            )
            promoted = await _fill(
                session,
                request.gate_id,
                concurrency.limit,
                await _holding(session, request.gate_id),
            )
            permit = await _answer(session, request) or Permit(granted=False)
        await self._tell(request.gate_id, _others(promoted, request), concurrency.limit)
        return self._recheck(permit)

    @activity.defn(name="return-permit")
    async def give_back(self, request: PermitRequest) -> None:
        spec = self._registry.effective(request.function_id)
        assert spec.concurrency is not None
        async with self._sessions() as session, session.begin():
            await _lock(session, request.gate_id)
            await session.execute(delete(PermitRow).where(_is(request)))
            promoted = await _fill(
                session,
                request.gate_id,
                spec.concurrency.limit,
                await _holding(session, request.gate_id),
            )
        await self._tell(request.gate_id, promoted, spec.concurrency.limit)

    async def _reserve_slot(self, request: PermitRequest, limit: int, period: timedelta) -> Permit:
        """The next slot after the latest, and at least one window after the `limit`-th latest:
        any window of `period` (plus the margin) then holds at most `limit` slots."""
        gate_id, margin = request.gate_id, throttle_margin(period)
        async with self._sessions() as session, session.begin():
            await _lock(session, gate_id)
            # The asking moment is read with the gate held: read before, a run that waited for
            # the lock behind a later asker would find its slot "later" than its moment and wait.
            now = request.at or utcnow()
            await session.execute(
                delete(ThrottleSlot).where(
                    ThrottleSlot.gate_id == gate_id, ThrottleSlot.at < now - period - margin
                )
            )
            latest = select(ThrottleSlot.at).where(ThrottleSlot.gate_id == gate_id)
            latest = latest.order_by(ThrottleSlot.at.desc())
            last = await session.scalar(latest.limit(1))
            window_start = await session.scalar(latest.offset(limit - 1).limit(1))
            slot = max(now, last or now)
            if window_start is not None:
                slot = max(slot, window_start + period + margin)
            session.add(ThrottleSlot(gate_id=gate_id, at=slot))
        # A slot a moment after the asking (a run that asked as another took the last slot)
        # is taken at once: the margin covers that moment, a timer would cost a round trip.
        wait = slot - now if slot - now > SAME_MOMENT else timedelta(0)
        return Permit(granted=not wait, wait_seconds=wait.total_seconds(), slot=slot)

    def _recheck(self, permit: Permit) -> Permit:
        """Every run in line looks again after a probe interval (whoever is first then frees
        the permits of gone runs), in case the signal handing it a permit was lost."""
        if not permit.granted:
            permit.recheck_seconds = self.probe_seconds
        return permit

    async def _running(self, holder: Holder) -> bool:
        handle = self._client.get_workflow_handle(holder.workflow_id, run_id=holder.run_id)
        try:
            return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return False

    async def _tell(self, gate_id: str, promoted: list[tuple[int, Holder]], limit: int) -> None:
        """Signals the runs given a permit. One that is gone cannot use it: its permit goes to
        the next in line."""
        while promoted:
            gone = []
            for row_id, holder in promoted:
                handle = self._client.get_workflow_handle(holder.workflow_id, run_id=holder.run_id)
                try:
                    await handle.signal(GRANTED_SIGNAL, gate_id)
                except RPCError as err:
                    if err.status != RPCStatusCode.NOT_FOUND:
                        raise
                    gone.append(row_id)
            if not gone:
                return
            async with self._sessions() as session, session.begin():
                await _lock(session, gate_id)
                await session.execute(delete(PermitRow).where(PermitRow.id.in_(gone)))
                promoted = await _fill(session, gate_id, limit, await _holding(session, gate_id))


def _row(request: PermitRequest, *, holding: bool) -> dict[str, object]:
    return {
        "gate_id": request.gate_id,
        "workflow_id": request.holder.workflow_id,
        "run_id": request.holder.run_id,
        "holding": holding,
        "since": utcnow(),
    }


def _others(promoted: list[tuple[int, Holder]], request: PermitRequest) -> list[tuple[int, Holder]]:
    """The runs to tell: the asking run learns of its own permit from the answer."""
    return [(row_id, holder) for row_id, holder in promoted if holder != request.holder]


def _is(request: PermitRequest) -> ColumnElement[bool]:
    return and_(
        PermitRow.gate_id == request.gate_id,
        PermitRow.workflow_id == request.holder.workflow_id,
        PermitRow.run_id == request.holder.run_id,
    )


async def _answer(session: AsyncSession, request: PermitRequest) -> Permit | None:
    """Whether the run holds its permit, or else whether it is the first in line (None: it has
    no row)."""
    row = (
        await session.execute(select(PermitRow.id, PermitRow.holding).where(_is(request)))
    ).first()
    if row is None:
        return None
    if row.holding:
        return Permit(granted=True)
    ahead = await session.scalar(
        select(PermitRow.id).where(
            PermitRow.gate_id == request.gate_id,
            PermitRow.holding.is_(False),
            PermitRow.id < row.id,
        )
    )
    return Permit(granted=False, first=ahead is None)


async def _lock(session: AsyncSession, gate_id: str) -> None:
    """Serialises the transactions of one key: on PostgreSQL an advisory lock; on SQLite the
    write lock every transaction takes as it begins (`BEGIN IMMEDIATE`), begun here."""
    if is_postgresql(session):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:gate))"), {"gate": gate_id}
        )
    else:
        await session.connection()


async def _counts(session: AsyncSession, gate_id: str) -> dict[bool, int]:
    """Holders (True) and runs in line (False)."""
    rows = await session.execute(
        select(PermitRow.holding, func.count())
        .where(PermitRow.gate_id == gate_id)
        .group_by(PermitRow.holding)
    )
    counts = {True: 0, False: 0}
    for holding, count in rows.tuples():
        counts[bool(holding)] = count
    return counts


async def _holding(session: AsyncSession, gate_id: str) -> int:
    count = await session.scalar(
        select(func.count()).where(PermitRow.gate_id == gate_id, PermitRow.holding.is_(True))
    )
    return int(count or 0)


async def _fill(
    session: AsyncSession, gate_id: str, limit: int, holding: int
) -> list[tuple[int, Holder]]:
    """Gives free permits to the first in line; returns them (to be told)."""
    free = limit - holding
    if free <= 0:
        return []
    rows = (
        await session.execute(
            select(PermitRow.id, PermitRow.workflow_id, PermitRow.run_id)
            .where(PermitRow.gate_id == gate_id, PermitRow.holding.is_(False))
            .order_by(PermitRow.id)
            .limit(free)
        )
    ).all()
    if rows:
        await session.execute(
            update(PermitRow)
            .where(PermitRow.id.in_([r.id for r in rows]))
            .values(holding=True, since=utcnow()),
            execution_options={"synchronize_session": False},
        )
    return [(r.id, Holder(workflow_id=r.workflow_id, run_id=r.run_id)) for r in rows]


async def _holders(session: AsyncSession, gate_id: str) -> list[tuple[int, Holder]]:
    rows = await session.execute(
        select(PermitRow.id, PermitRow.workflow_id, PermitRow.run_id).where(
            PermitRow.gate_id == gate_id, PermitRow.holding.is_(True)
        )
    )
    return [(r.id, Holder(workflow_id=r.workflow_id, run_id=r.run_id)) for r in rows]
