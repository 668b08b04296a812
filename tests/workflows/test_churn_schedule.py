"""daily-churn-report's Schedule on the dev server: two workers starting together (each ensures
the schedules as it starts, as worker.py does) leave one schedule with the declared cron in the
configured time zone, and a triggered run reports. In one process: what races is the two
workers' calls to the server, not the processes."""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleInfo,
    ScheduleRange,
)
from temporalio.testing import WorkflowEnvironment

from activities.churn import ChurnReport
from application import build_registry
from db.models import OutboxMessage, User
from inngest_temporal import Sessions, ensure_schedules
from settings import Settings
from tests.support import make_worker, unique

# Schedules are the server's, not a task queue's (tests/fixtures.py).
pytestmark = pytest.mark.usefixtures("server_schedules")
SCHEDULE_ID = "cron-daily-churn-report"
TIME_ZONE = "America/New_York"


async def churn_schedules(client: Client) -> list[str]:
    """Ids of every schedule that starts daily-churn-report (visibility lags: wait for one)."""
    for _ in range(100):
        found = [
            s.id
            async for s in await client.list_schedules()
            if s.schedule and getattr(s.schedule.action, "workflow", None) == "daily-churn-report"
        ]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


def started_runs(info: ScheduleInfo) -> set[str]:
    actions = [a.action for a in info.recent_actions] + list(info.running_actions)
    return {a.workflow_id for a in actions if isinstance(a, ScheduleActionExecutionStartWorkflow)}


async def triggered_run(handle: ScheduleHandle) -> str:
    """Triggers the schedule now; returns the workflow id of the run it starts."""
    before = started_runs((await handle.describe()).info)
    await handle.trigger()
    for _ in range(200):
        new = started_runs((await handle.describe()).info) - before
        if new:
            return new.pop()
        await asyncio.sleep(0.05)
    raise TimeoutError("the triggered schedule started no run")


async def test_two_workers_leave_one_schedule_whose_run_posts_the_report(
    dev_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user_id = unique("lapsing")
    async with sessions() as session:
        session.add(
            User(
                id=user_id,
                email=f"{user_id}@example.com",
                name="Lapsing",
                plan="pro",
                trial_ends_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        await session.commit()
    settings = Settings(environment="test", schedule_time_zone=TIME_ZONE)
    client = dev_env.client
    registry = build_registry(settings)
    await asyncio.gather(
        *(ensure_schedules(client, registry, task_queue, TIME_ZONE) for _ in ("one", "two"))
    )
    async with make_worker(client, sessions, task_queue, settings=settings):
        assert await churn_schedules(client) == [SCHEDULE_ID]
        handle = client.get_schedule_handle(SCHEDULE_ID)
        schedule = (await handle.describe()).schedule
        assert schedule.spec.time_zone_name == TIME_ZONE
        # The server keeps "0 9 * * *" as its calendar form: 09:00:00 every day.
        [calendar] = schedule.spec.calendars
        assert (calendar.hour, calendar.minute, calendar.second) == (
            (ScheduleRange(9),),
            (ScheduleRange(0),),
            (ScheduleRange(0),),
        )
        assert calendar.day_of_week == (ScheduleRange(0, 6),)
        assert isinstance(schedule.action, ScheduleActionStartWorkflow)
        assert (schedule.action.workflow, schedule.action.task_queue) == (
            "daily-churn-report",
            task_queue,
        )
        next_run = (
            (await handle.describe()).info.next_action_times[0].astimezone(ZoneInfo(TIME_ZONE))
        )
        assert (next_run.hour, next_run.minute) == (9, 0)

        workflow_id = await triggered_run(handle)
        report = await client.get_workflow_handle(workflow_id, result_type=ChurnReport).result()

    assert isinstance(report, ChurnReport)
    assert user_id in [u.user_id for u in report.users]
    async with sessions() as session:
        posted = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.idempotency_key == f"daily-churn-report/{workflow_id}/notify-team"
                )
            )
        ).one()
    assert posted.channel == "slack"
    assert (
        f"- Lapsing <{user_id}@example.com> (pro): trial ends in 1 day, never active" in posted.body
    )
