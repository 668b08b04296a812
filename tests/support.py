"""Helpers the tests share: workers with real activities (some replaced by fakes), unique ids."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from db.engine import Sessions
from events.registry import Registry, registry
from infra.worker import build_activities, build_worker
from settings import Settings


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def activity_name(fn: Callable[..., Any]) -> str:
    definition = getattr(fn, "__temporal_activity_definition")
    return str(definition.name)


def make_worker(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    *,
    settings: Settings | None = None,
    fakes: list[Callable[..., Any]] = (),  # type: ignore[assignment]
    functions: Registry = registry,
    **options: Any,
) -> Worker:
    """A worker with the real activities, except those replaced by a fake of the same name."""
    settings = settings or Settings(environment="test")
    real = build_activities(client, sessions, settings, functions, task_queue)
    replaced = {activity_name(f) for f in fakes}
    return build_worker(
        client,
        sessions,
        settings,
        functions,
        task_queue,
        activities=[a for a in real if activity_name(a) not in replaced] + list(fakes),
        **options,
    )


async def step_times(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, timedelta]]:
    """Each step the run scheduled (its id, as the Web UI shows it) and when, counted from the
    run's start on the server's clock (virtual time on the time-skipping server)."""
    started = None
    steps = []
    async for event in handle.fetch_history_events():
        at = event.event_time.ToDatetime()
        started = started or at
        if event.HasField("activity_task_scheduled_event_attributes"):
            steps.append((event.user_metadata.summary.data.decode().strip('"'), at - started))
    return steps


async def step_ids(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The run's steps in order, as the Web UI names them (activity summaries)."""
    return [step for step, _ in await step_times(handle)]
