"""What the workflow histories say a rendition did: each run's start-to-close time, where that time
went (waiting for and running workflow tasks and activities), and how many history events,
workflow tasks, activity tasks, local activity markers, signals and updates it took. The server's
CPU follows these counts: every event is written, every task dispatched."""

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

# Counted per run: (label, event type).
COUNTED = (
    ("workflow tasks", EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    ("activity tasks", EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    ("local activities", EventType.EVENT_TYPE_MARKER_RECORDED),  # of core_local_activity
    ("patch markers", EventType.EVENT_TYPE_MARKER_RECORDED),  # of workflow.patched
    ("timers", EventType.EVENT_TYPE_TIMER_STARTED),
    ("signals in", EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
    ("signals out", EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED),
    ("updates", EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
    ("children", EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
)
PATCH_MARKER = "core_patch"
CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
}


@dataclass
class RunShape:
    events: int
    counts: Counter[str]
    start_to_close_ms: float | None  # None: still open
    # Where the time went, ms (summed over tasks; these can overlap when tasks run in parallel).
    phases_ms: dict[str, float] = field(default_factory=dict)


def _ms(event: HistoryEvent) -> float:
    return event.event_time.ToNanoseconds() / 1e6


def shape(events: list[HistoryEvent]) -> RunShape:
    by_id = {e.event_id: e for e in events}
    counts: Counter[str] = Counter()
    phases: defaultdict[str, float] = defaultdict(float)
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            patch = e.marker_recorded_event_attributes.marker_name == PATCH_MARKER
            counts["patch markers" if patch else "local activities"] += 1
        else:
            for label, event_type in COUNTED:
                if e.event_type == event_type:
                    counts[label] += 1
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            scheduled = by_id[e.workflow_task_started_event_attributes.scheduled_event_id]
            phases["workflow task queued"] += _ms(e) - _ms(scheduled)
        elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            started = by_id[e.workflow_task_completed_event_attributes.started_event_id]
            phases["workflow task running"] += _ms(e) - _ms(started)
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            scheduled = by_id[e.activity_task_started_event_attributes.scheduled_event_id]
            phases["activity queued"] += _ms(e) - _ms(scheduled)
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            started = by_id[e.activity_task_completed_event_attributes.started_event_id]
            phases["activity running"] += _ms(e) - _ms(started)
    closed = events[-1].event_type in CLOSED if events else False
    start_to_close = _ms(events[-1]) - _ms(events[0]) if closed else None
    return RunShape(len(events), counts, start_to_close, dict(phases))


async def fetch_shapes(
    client: Client, runs: Iterable[tuple[str, str | None]], concurrency: int = 20
) -> list[RunShape]:
    """The shape of each (workflow id, run id or None for the latest run)."""
    slots = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str, run_id: str | None) -> RunShape:
        async with slots:
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            return shape([e async for e in handle.fetch_history_events()])

    return list(await asyncio.gather(*(one(w, r) for w, r in runs)))


async def runs_of_type(client: Client, workflow_type: str) -> list[tuple[str, str | None]]:
    """Every run (every continue-as-new link too) of a workflow type, from visibility."""
    return [
        (e.id, e.run_id) async for e in client.list_workflows(f"WorkflowType = '{workflow_type}'")
    ]


@dataclass
class TypeSummary:
    """One workflow type's runs, averaged over those read, scaled per signup."""

    workflow_type: str
    runs: int
    runs_read: int
    events_per_run: float
    counts_per_run: dict[str, float]

    def per_signup(self, signups: int) -> float:
        return self.events_per_run * self.runs / signups


def summarise(workflow_type: str, runs: int, shapes: list[RunShape]) -> TypeSummary:
    n = max(len(shapes), 1)
    totals: Counter[str] = Counter()
    for s in shapes:
        totals.update(s.counts)
    return TypeSummary(
        workflow_type,
        runs,
        len(shapes),
        sum(s.events for s in shapes) / n,
        {label: totals[label] / n for label, _ in COUNTED},
    )
