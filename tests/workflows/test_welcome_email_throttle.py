"""send-welcome-email's throttle, across two worker processes on the dev server: at most `limit`
runs get past the gate to their first step per period, in arrival order, and none is dropped."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.models import OutboxMessage
from events.users import SignupCompleted, SignupCompletedData
from inngest_temporal import Sessions
from inngest_temporal.admission import GRANTED_SIGNAL
from inngest_temporal.testing import summary
from tests.support import unique
from tests.worker_processes import worker_processes
from workflows.send_welcome_email import SendWelcomeEmailWorkflow

LIMIT, PERIOD = 3, timedelta(seconds=2)
RUNS = 9
SAME_GRANT = timedelta(milliseconds=100)


async def admitted_and_first_step(
    handle: WorkflowHandle[Any, Any],
) -> tuple[datetime, datetime, set[str]]:
    """When the gate's permit reached the run (server time: the moment the run is released to its
    first step), when its first activity started, and the worker processes (pid@host) that ran
    its steps."""
    history = await handle.fetch_history()
    # Granted at once (the answer to the run's request) or later (a signal from the gate).
    admitted = next(
        (
            e
            for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")
            and e.workflow_execution_signaled_event_attributes.signal_name == GRANTED_SIGNAL
        ),
        None,
    ) or next(
        iter(
            [
                e
                for e in history.events
                if e.HasField("marker_recorded_event_attributes")
                and await summary(handle, e) == "admission (throttle)"
            ]
        )
    )
    first = next(
        e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
    )
    started = next(
        e
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.scheduled_event_id == first.event_id
    )
    workers = {
        e.activity_task_started_event_attributes.identity
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    }
    return (
        admitted.event_time.ToDatetime(tzinfo=UTC),
        started.event_time.ToDatetime(tzinfo=UTC),
        workers,
    )


def most_in_any_window(times: list[datetime], window: timedelta) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < window) for i, start in enumerate(ordered))


async def test_throttle_holds_across_two_workers_in_arrival_order(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: Sessions,
    task_queue: str,
    tmp_path: Path,
) -> None:
    overrides = {
        "send-welcome-email": {
            "throttle": {"limit": LIMIT, "period_seconds": PERIOD.total_seconds()}
        }
    }
    env = {"FUNCTION_OVERRIDES": json.dumps(overrides)}
    emails = [f"{unique('welcome')}@example.com" for _ in range(RUNS)]

    async def start(email: str) -> WorkflowHandle[Any, Any]:
        event = SignupCompleted(
            id=unique("evt"),
            data=SignupCompletedData(user_id=unique("user"), email=email, name="Tom", plan="free"),
        )
        return await dev_env.client.start_workflow(
            SendWelcomeEmailWorkflow.run, event, id=unique("welcome"), task_queue=task_queue
        )

    async with worker_processes(dev_env, database_url, task_queue, tmp_path, env=env):
        # Warm both workers (a cold one takes its first tasks late, which reorders arrivals),
        # then let the warm-up's grants leave the window.
        await asyncio.gather(
            *[(await start(f"{unique('warm')}@example.com")).result() for _ in "ab"]
        )
        await asyncio.sleep(PERIOD.total_seconds() * 1.2)
        handles = []
        for email in emails:
            handles.append(await start(email))
            # Spaced arrivals, so "arrival order" at the gate is the order we started them in.
            await asyncio.sleep(0.2)
        receipts = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)
        runs = [await admitted_and_first_step(h) for h in handles]
    admitted = [at for at, _, _ in runs]
    started = [at for _, at, _ in runs]
    # Both processes ran these runs' steps: the limit held across them.
    assert len(set().union(*(workers for _, _, workers in runs))) == 2

    async with sessions() as session:
        sent = set(
            (
                await session.scalars(
                    select(OutboxMessage.recipient).where(
                        OutboxMessage.channel == "email", OutboxMessage.recipient.in_(emails)
                    )
                )
            ).all()
        )
    assert sent == set(emails) and [r.to for r in receipts] == emails  # every one sent
    busiest = most_in_any_window(admitted, PERIOD)
    span = (max(admitted) - min(admitted)).total_seconds()
    print(
        f"throttle: at most {busiest} runs released to their first step in any {PERIOD}"
        f" (first-step starts: at most {most_in_any_window(started, PERIOD)});"
        f" {RUNS} runs over {span:.2f}s"
    )
    assert busiest == LIMIT
    assert span >= (RUNS // LIMIT - 1) * PERIOD.total_seconds()
    # In arrival order: no run is released before one that arrived earlier (runs let through by
    # the same grant may be delivered a few ms apart, in either order).
    for i, earlier in enumerate(admitted):
        assert all(earlier <= later + SAME_GRANT for later in admitted[i + 1 :])
