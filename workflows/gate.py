"""A durable admission gate: one workflow per (function, kind, key) that grants runs permission to
proceed, in arrival order. Because the gate is a single workflow, its limit holds across any
number of worker processes.

- concurrency: at most `limit` holders at once; a holder keeps its permit until it releases it.
- throttle: at most `limit` grants in any window of `period_seconds` (plus a small margin, see
  `_window`).
"""

import asyncio
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

GRANTED_SIGNAL = "gate-granted"
MAX_HISTORY = 5_000
MAX_THROTTLE_MARGIN = timedelta(seconds=1)


def gate_id(task_queue: str, function_id: str, kind: str, key: str) -> str:
    # Per task queue: a gate lives where the workers that serve its function poll.
    return f"gate/{task_queue}/{function_id}/{kind}/{key}"


class Acquire(BaseModel):
    holder: str
    limit: int
    period_seconds: float | None = None


class GateState(BaseModel):
    gate_id: str
    limit: int
    period_seconds: float | None = None  # None: concurrency, otherwise throttle
    queue: list[str] = []
    holders: list[str] = []
    grants: list[datetime] = []


@workflow.defn(name="gate")
class GateWorkflow:
    @workflow.init
    def __init__(self, state: GateState) -> None:
        self.state = state
        self.changed = False

    @workflow.signal
    def acquire(self, request: Acquire) -> None:
        # The latest configured limit wins, so an operator can change it without a deploy.
        self.state.limit = request.limit
        self.state.period_seconds = request.period_seconds
        holder = request.holder
        if holder not in self.state.queue and holder not in self.state.holders:
            self.state.queue.append(holder)
            self.changed = True

    @workflow.signal
    def release(self, holder: str) -> None:
        if holder in self.state.holders:
            self.state.holders.remove(holder)
        if holder in self.state.queue:
            self.state.queue.remove(holder)
        self.changed = True

    @workflow.query
    def status(self) -> GateState:
        return self.state

    @workflow.run
    async def run(self, state: GateState) -> None:
        while True:
            # Cleared before granting, not after: `_grant` awaits its signals, and an acquire or
            # release arriving meanwhile must still wake the wait below (else the gate stalls
            # with room and a queue: seen with 3 runs arriving together).
            self.changed = False
            self._forget_old_grants()
            await self._grant()
            if not self.state.queue and not self.state.holders and not self.state.grants:
                return
            if (
                workflow.info().is_continue_as_new_suggested()
                or workflow.info().get_current_history_length() > MAX_HISTORY
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
            try:
                await workflow.wait_condition(lambda: self.changed, timeout=self._next_expiry())
            except TimeoutError:
                pass

    async def _grant(self) -> None:
        granted: list[str] = []
        while self.state.queue and self._has_room():
            holder = self.state.queue.pop(0)
            granted.append(holder)
            if self.state.period_seconds is None:
                self.state.holders.append(holder)
            else:
                self.state.grants.append(workflow.now())
        if not granted:
            return
        results = await asyncio.gather(
            *(
                workflow.get_external_workflow_handle(h).signal(GRANTED_SIGNAL, self.state.gate_id)
                for h in granted
            ),
            return_exceptions=True,
        )
        if self.state.period_seconds is not None:
            # A throttle grant counts from when its signal was delivered, not from when it was
            # decided: under load delivery lags, and counting from the decision would let the
            # next period's runs through early. workflow.now() here is after every delivery.
            self.state.grants[-len(granted) :] = [workflow.now()] * len(granted)
        for holder, result in zip(granted, results, strict=True):
            # A holder that no longer exists cannot release: free its place now.
            if isinstance(result, BaseException) and holder in self.state.holders:
                self.state.holders.remove(holder)

    def _has_room(self) -> bool:
        if self.state.period_seconds is None:
            return len(self.state.holders) < self.state.limit
        self._forget_old_grants()
        return len(self.state.grants) < self.state.limit

    def _forget_old_grants(self) -> None:
        if self.state.period_seconds is not None:
            horizon = workflow.now() - self._window()
            self.state.grants = [t for t in self.state.grants if t > horizon]

    def _next_expiry(self) -> timedelta | None:
        if self.state.period_seconds is None or not self.state.grants:
            return None
        expiry = min(self.state.grants) + self._window()
        return max(expiry - workflow.now(), timedelta(milliseconds=1))

    def _window(self) -> timedelta:
        """How long a throttle grant counts. A granted run reaches its first step tens of ms later,
        and that delay varies from run to run; a window of exactly one period let 4 first steps
        of a "3 per 2 s" throttle fall within 2 s (measured: 1.986 s). The margin (10% of the
        period, at most 1 s) keeps the limit true where users see it, at the steps."""
        assert self.state.period_seconds is not None
        period = timedelta(seconds=self.state.period_seconds)
        return period + min(period / 10, MAX_THROTTLE_MARGIN)
