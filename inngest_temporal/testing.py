"""Helpers for testing functions: a worker whose activities can be replaced by fakes of the same
name, and the steps a run took as the Web UI names them."""

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle

from inngest_temporal.dispatcher import Dispatcher
from inngest_temporal.worker import Workers, build_worker

LOCAL_ACTIVITY_MARKER = "core_local_activity"


def activity_name(fn: Callable[..., Any]) -> str:
    definition = getattr(fn, "__temporal_activity_definition")
    return str(definition.name)


def worker_with_fakes(
    client: Client,
    dispatcher: Dispatcher,
    task_queue: str,
    activities: Iterable[Callable[..., Any]],
    fakes: Iterable[Callable[..., Any]] = (),
    **options: Any,
) -> Workers:
    """A worker with the given activities, except those replaced by a fake of the same name."""
    fakes = list(fakes)
    replaced = {activity_name(f) for f in fakes}
    kept = [a for a in activities if activity_name(a) not in replaced]
    return build_worker(client, dispatcher, task_queue, [*kept, *fakes], **options)


async def step_times(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, timedelta]]:
    """Each step the run took (its id, as the Web UI shows it: the summary of an activity or of a
    local activity's marker) and when, counted from the run's start on the server's clock
    (virtual time on the time-skipping server). Admission is not a step."""
    started = None
    steps = []
    async for event in handle.fetch_history_events():
        at = event.event_time.ToDatetime()
        started = started or at
        is_activity = event.HasField("activity_task_scheduled_event_attributes")
        is_local = (
            event.HasField("marker_recorded_event_attributes")
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        )
        if is_activity or is_local:
            step = await summary(handle, event)
            if not step.startswith("admission"):
                steps.append((step, at - started))
    return steps


async def step_ids(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The run's steps in order, as the Web UI names them."""
    return [step for step, _ in await step_times(handle)]


async def summary(handle: WorkflowHandle[Any, Any], event: HistoryEvent) -> str:
    """An event's summary (a step id), decoded with the handle's client's converter (summaries
    are payloads: a codec encrypts them too)."""
    payload = event.user_metadata.summary
    if not payload.metadata:
        return ""  # no summary (a patch marker, a signal)
    # The handle keeps its client private; its converter is the one that wrote the summary.
    converter = handle._client.data_converter
    [text] = await converter.decode([payload], [str])
    return str(text)


async def task_builds(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The build ids of the run's completed workflow tasks, in order, each once (the time-skipping
    server records none)."""
    builds: list[str] = []
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_completed_event_attributes"):
            build = event.workflow_task_completed_event_attributes.worker_version.build_id
            if build not in builds:
                builds.append(build)
    return builds
