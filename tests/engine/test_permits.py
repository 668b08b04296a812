"""Permits kept in the database, raced by two pools (as two worker processes have), on SQLite (one
writer at a time) and on PostgreSQL (an advisory lock per key): a concurrency limit grants exactly
its limit and lines the rest up, a returned permit goes to the first in line, asking again
changes nothing, and a throttle's slots never put more than its limit in any window. Temporal is
a fake here that records the signals handing permits on."""

import asyncio
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import select
from temporalio.client import Client

from inngest_temporal import FunctionOverride, Registry
from inngest_temporal.permits import (
    GRANTED_SIGNAL,
    Holder,
    PermitActivities,
    PermitRequest,
    PermitRow,
    throttle_margin,
)
from tests.engine.conftest import LogDatabase
from tests.engine.functions import FUNCTIONS
from tests.support import unique

REGISTRY = Registry(
    FUNCTIONS,
    overrides={"one-at-a-time": FunctionOverride.model_validate({"concurrency": {"limit": 3}})},
)


class Signals:
    """The server's side of `handle.signal`: who was told, and of which gate."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def get_workflow_handle(self, workflow_id: str, *, run_id: str) -> "Run":
        return Run(self, workflow_id)


class Run:
    def __init__(self, signals: Signals, workflow_id: str) -> None:
        self.signals, self.workflow_id = signals, workflow_id

    async def signal(self, name: str, arg: Any) -> None:
        self.signals.sent.append((self.workflow_id, name, arg))


def ask(function_id: str, kind: str, key: str, n: int) -> PermitRequest:
    return PermitRequest.model_validate(
        {
            "task_queue": "permits",
            "function_id": function_id,
            "kind": kind,
            "key": key,
            "holder": Holder(workflow_id=f"run-{n}", run_id=f"r{n}"),
        }
    )


async def test_concurrency_grants_its_limit_and_hands_permits_on_in_line(
    log_db: LogDatabase,
) -> None:
    signals, key = Signals(), unique("k")
    async with log_db.sessions() as one, log_db.sessions() as two:
        workers = [PermitActivities(cast(Client, signals), pool, REGISTRY) for pool in (one, two)]
        requests = [ask("one-at-a-time", "concurrency", key, n) for n in range(10)]
        answers = await asyncio.gather(*(workers[n % 2].take(r) for n, r in enumerate(requests)))
        async with one() as session:
            line = list(
                await session.scalars(
                    select(PermitRow.workflow_id)
                    .where(PermitRow.gate_id == requests[0].gate_id, PermitRow.holding.is_(False))
                    .order_by(PermitRow.id)
                )
            )
        holders = [r for r, answer in zip(requests, answers, strict=True) if answer.granted]

        assert len(holders) == 3 and len(line) == 7 and signals.sent == []
        # Asking again (a retried local activity) is the same answer, and no second place.
        assert (await workers[1].take(holders[0])).granted
        waiting = next(r for r in requests if r.holder.workflow_id == line[0])
        assert not (await workers[0].take(waiting)).granted
        # A returned permit goes to the first in line, told by a signal.
        await workers[1].give_back(holders[0])
        assert signals.sent == [(line[0], GRANTED_SIGNAL, requests[0].gate_id)]
        assert (await workers[0].check(waiting)).granted
        # A run that leaves the line (cancelled while waiting) gives its place up.
        leaving = next(r for r in requests if r.holder.workflow_id == line[1])
        await workers[0].give_back(leaving)
        await workers[1].give_back(holders[1])
        assert signals.sent[-1][0] == line[2]


async def test_a_throttles_slots_put_at_most_its_limit_in_any_window(log_db: LogDatabase) -> None:
    signals, key = Signals(), unique("k")
    period = timedelta(seconds=1)  # two-a-second: 2 per second
    async with log_db.sessions() as one, log_db.sessions() as two:
        workers = [PermitActivities(cast(Client, signals), pool, REGISTRY) for pool in (one, two)]
        answers = await asyncio.gather(
            *(workers[n % 2].take(ask("two-a-second", "throttle", key, n)) for n in range(7))
        )

    slots = sorted(a.slot for a in answers if a.slot is not None)
    assert len(slots) == 7
    assert sum(a.granted for a in answers) == 2  # the first two at once, the rest wait
    window = period + throttle_margin(period)
    assert all(later - earlier >= window for earlier, later in zip(slots, slots[2:], strict=False))
    # No slower than that: every third slot one window after, in arrival order.
    assert slots[-1] - slots[0] < 3 * window + timedelta(seconds=1)
