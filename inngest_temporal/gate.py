"""A durable admission gate: one workflow per (function, kind, key) that admits runs in arrival
order. Because the gate is a single workflow, its limit holds across any number of workers.
Runs now take their permits from the database (permits.py); the gates serve the runs admitted
by them before that, until none is left in flight.

- concurrency: at most `limit` holders at once; a holder keeps its permit until it releases it,
  or until the gate finds the run gone (terminated, timed out, reset): it checks its holders every
  `probe_seconds` (30 s by default), so a permit never leaks for longer than that.
- throttle: at most `limit` admissions in any window of `period_seconds` (plus a small margin).

A run asks with an update (`acquire`): with room, the answer is the permit itself, one round trip;
otherwise the run is queued and a signal brings its permit later. The queue is bounded: a full
gate refuses new arrivals, which retry with backoff, so the gate's state (and every
continue-as-new payload) stays small however many runs wait."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from inngest_temporal.admission import (
        GATE_WORKFLOW,
        Acquire,
        Admission,
        GateActivities,
        GateState,
        Grant,
    )
    from inngest_temporal.permits import GRANTED_SIGNAL, Holder

MAX_HISTORY = 5_000
MAX_QUEUE = 2_000
MAX_THROTTLE_MARGIN = timedelta(seconds=1)
UNCONFIRMED_GRANT = timedelta(seconds=30)
IDLE_LINGER = timedelta(minutes=5)


@workflow.defn(name=GATE_WORKFLOW)
class GateWorkflow:
    @workflow.init
    def __init__(self, state: GateState) -> None:
        self.state = state
        self.changed = False
        self._alarm: datetime | None = None  # the earliest alarm set and not rung yet
        self._ringing: set[asyncio.Future[None]] = set()

    @workflow.update
    def acquire(self, request: Acquire) -> Grant:
        # The latest configured limit wins, so an operator can change it without a deploy.
        self.state.limit = request.limit
        self.state.period_seconds = request.period_seconds
        holder = request.holder
        if holder in self.state.holders or any(g.holder == holder for g in self.state.grants):
            return Grant(granted=True)  # asked again (a retried request): the same answer
        if holder not in self.state.queue:
            if not self.state.queue and self._has_room():
                self._admit(holder, confirmed=False)
                return Grant(granted=True)
            self.state.queue.append(holder)
            self.changed = True
        return Grant(granted=False)

    @acquire.validator
    def _room_in_queue(self, request: Acquire) -> None:
        # Refused updates leave no trace in the gate's history.
        known = request.holder in self.state.queue or request.holder in self.state.holders
        if not known and len(self.state.queue) >= MAX_QUEUE:
            raise ValueError(f"the gate's queue is full ({MAX_QUEUE} runs waiting)")

    @workflow.signal
    def admitted(self, holder: Holder) -> None:
        """A throttled run granted at once confirms it went on. Its grant counts from now, after
        the run's first step was scheduled: the update's own time can be seconds before that (a
        worker busy or cold), and counting from it let a third run of "2 per second" through."""
        for grant in self.state.grants:
            if grant.holder == holder:
                grant.at, grant.confirmed = workflow.now(), True
        self.changed = True

    @workflow.signal
    def release(self, holder: Holder) -> None:
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
        next_probe = workflow.now() + self._probe_interval
        idle_since: datetime | None = None
        while True:
            # Cleared before granting, not after: `_grant` awaits its signals, and an acquire or
            # release arriving meanwhile must still wake the wait below.
            self.changed = False
            now = workflow.now()
            if self.state.holders and now >= next_probe:
                await self._forget_gone_holders()
                next_probe = workflow.now() + self._probe_interval
            self._forget_old_grants()
            await self._grant()
            wakes = [self._next_expiry()]
            if self.state.queue or self.state.holders or self.state.grants:
                idle_since = None
            else:
                # Idle: linger a while for the next run (starting a gate costs more than
                # keeping it), then end, so a gate of a quiet key leaves nothing behind.
                idle_since = idle_since or now
                if now - idle_since >= IDLE_LINGER:
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    return
                wakes.append(idle_since + IDLE_LINGER)
            if (
                workflow.info().is_continue_as_new_suggested()
                or workflow.info().get_current_history_length() > MAX_HISTORY
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
            if self.state.holders:
                wakes.append(next_probe)
            self._wake_at(min((t for t in wakes if t is not None), default=None))
            await workflow.wait_condition(lambda: self.changed)

    def _wake_at(self, moment: datetime | None) -> None:
        """Makes sure the gate wakes by `moment`. An alarm already set for then or earlier is
        kept (it wakes the loop, which sets the next); alarms are never cancelled, only left to
        ring: a timer per wait that a message then cancels would add two events to every task."""
        if moment is None or (self._alarm is not None and self._alarm <= moment):
            return
        self._alarm = moment
        alarm = asyncio.ensure_future(self._ring(moment))
        self._ringing.add(alarm)
        alarm.add_done_callback(self._ringing.discard)

    async def _ring(self, moment: datetime) -> None:
        await workflow.sleep(max(moment - workflow.now(), timedelta(milliseconds=1)))
        if self._alarm == moment:
            self._alarm = None
        self.changed = True

    @property
    def _probe_interval(self) -> timedelta:
        return timedelta(seconds=self.state.probe_seconds)

    def _admit(self, holder: Holder, confirmed: bool = True) -> None:
        if self.state.period_seconds is None:
            self.state.holders.append(holder)
        else:
            self.state.grants.append(
                Admission(holder=holder, at=workflow.now(), confirmed=confirmed)
            )

    async def _grant(self) -> None:
        granted: list[Holder] = []
        while self.state.queue and self._has_room():
            holder = self.state.queue.pop(0)
            granted.append(holder)
            self._admit(holder)
        if not granted:
            return
        results = await asyncio.gather(
            *(
                workflow.get_external_workflow_handle(h.workflow_id, run_id=h.run_id).signal(
                    GRANTED_SIGNAL, self.state.gate_id
                )
                for h in granted
            ),
            return_exceptions=True,
        )
        if self.state.period_seconds is not None:
            # A throttle grant counts from when its signal was delivered, not from when it was
            # decided: under load delivery lags, and counting from the decision would let the
            # next period's runs through early. workflow.now() here is after every delivery.
            for grant in self.state.grants[-len(granted) :]:
                grant.at = workflow.now()
        for holder, result in zip(granted, results, strict=True):
            # A holder that no longer exists cannot release: free its place now.
            if isinstance(result, BaseException) and holder in self.state.holders:
                self.state.holders.remove(holder)

    async def _forget_gone_holders(self) -> None:
        gone = await workflow.execute_local_activity_method(
            GateActivities.runs_gone,
            self.state.holders,
            start_to_close_timeout=timedelta(seconds=30),
        )
        for holder in gone:
            if holder in self.state.holders:
                self.state.holders.remove(holder)

    def _has_room(self) -> bool:
        if self.state.period_seconds is None:
            return len(self.state.holders) < self.state.limit
        self._forget_old_grants()
        return len(self.state.grants) < self.state.limit

    def _forget_old_grants(self) -> None:
        if self.state.period_seconds is not None:
            horizon = workflow.now() - self._window()
            # An unconfirmed grant stays until confirmed (or, its run gone, for a while).
            unconfirmed_horizon = workflow.now() - UNCONFIRMED_GRANT
            self.state.grants = [
                g
                for g in self.state.grants
                if g.at > horizon or (not g.confirmed and g.at > unconfirmed_horizon)
            ]

    def _next_expiry(self) -> datetime | None:
        """With runs waiting, when the oldest grant leaves the window (room for the next run);
        without, when the newest does (one alarm per burst, then the gate can go idle)."""
        if self.state.period_seconds is None or not self.state.grants:
            return None
        expiries = [
            g.at + (self._window() if g.confirmed else UNCONFIRMED_GRANT) for g in self.state.grants
        ]
        return min(expiries) if self.state.queue else max(expiries)

    def _window(self) -> timedelta:
        """How long a throttle grant counts. A granted run reaches its first step tens of ms later,
        and that delay varies from run to run; a window of exactly one period let 4 first steps
        of a "3 per 2 s" throttle fall within 2 s (measured: 1.986 s). The margin (10% of the
        period, at most 1 s) keeps the limit true where users see it, at the steps."""
        assert self.state.period_seconds is not None
        period = timedelta(seconds=self.state.period_seconds)
        return period + min(period / 10, MAX_THROTTLE_MARGIN)
