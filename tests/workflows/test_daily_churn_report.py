"""daily-churn-report on the time-skipping server, each test with a database of its own: the
report is about *all* users, so other tests' users must not leak into its selection."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from activities.churn import ChurnReport
from db.models import OutboxMessage, User
from db.models.billing import Subscription
from events.users import EmailVerified, EmailVerifiedData
from inngest_temporal import (
    ScheduledTimer,
    ScheduledTimerData,
    Sessions,
    create_engine,
    session_factory,
)
from tests.conftest import ROOT
from tests.support import make_worker, sender, step_ids, unique
from workflows.daily_churn_report import DailyChurnReportWorkflow, NoAtRiskUsers


@pytest.fixture
async def own_sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'churn.db'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    config.attributes["database_url"] = url
    await asyncio.to_thread(command.upgrade, config, "heads")  # alembic runs its own loop
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def add_user(
    sessions: Sessions, name: str, trial_ends_in: timedelta | None, last_active: timedelta | None
) -> str:
    """A user whose trial ends `trial_ends_in` from now and who was last active `last_active` ago
    (None: never)."""
    user_id = unique(name.lower())
    now = datetime.now(UTC)
    async with sessions() as session:
        session.add(
            User(
                id=user_id,
                email=f"{user_id}@example.com",
                name=name,
                plan="pro",
                trial_ends_at=None if trial_ends_in is None else now + trial_ends_in,
                last_active_at=None if last_active is None else now - last_active,
            )
        )
        await session.commit()
    return user_id


async def run_report(
    env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> tuple[ChurnReport | NoAtRiskUsers, str, list[str]]:
    """Runs the report as its Schedule would; returns the result, the run's id and its steps."""
    run_id = f"daily-churn-report-{unique('run')}"
    async with make_worker(env.client, sessions, task_queue):
        handle = await env.client.start_workflow(
            DailyChurnReportWorkflow.run,
            ScheduledTimer(data=ScheduledTimerData(cron="0 9 * * *")),
            id=run_id,
            task_queue=task_queue,
        )
        result = await handle.result()
        steps = await step_ids(handle)
    return result, run_id, steps


async def slack_messages(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "slack"))
        )


async def test_reports_inactive_users_whose_trial_ends_within_three_days(
    skipping_env: WorkflowEnvironment, own_sessions: Sessions, task_queue: str
) -> None:
    day, hour = timedelta(days=1), timedelta(hours=1)
    bea = await add_user(own_sessions, "Bea", trial_ends_in=2 * day, last_active=3 * day)
    cal = await add_user(own_sessions, "Cal", trial_ends_in=20 * hour, last_active=None)
    await add_user(own_sessions, "Active", trial_ends_in=2 * day, last_active=hour)
    await add_user(own_sessions, "Recent", trial_ends_in=2 * day, last_active=47 * hour)
    await add_user(own_sessions, "Later", trial_ends_in=4 * day, last_active=None)
    await add_user(own_sessions, "Ended", trial_ends_in=-day, last_active=None)
    await add_user(own_sessions, "Paying", trial_ends_in=None, last_active=None)
    # Trial ending and inactive, but subscribed during the trial: converted, not at risk.
    subscribed = await add_user(own_sessions, "Subscribed", trial_ends_in=day, last_active=None)
    async with own_sessions() as session:
        session.add(Subscription(id=unique("sub"), user_id=subscribed, plan="pro", status="active"))
        await session.commit()
    # Inactive for days, but an event carrying their userId arrives now: no longer at risk.
    back = await add_user(own_sessions, "Back", trial_ends_in=day, last_active=5 * day)
    router = sender(skipping_env.client, own_sessions, task_queue)
    await router.send([EmailVerified(data=EmailVerifiedData(user_id=back))])

    result, run_id, steps = await run_report(skipping_env, own_sessions, task_queue)

    assert isinstance(result, ChurnReport)
    assert [(u.user_id, u.trial_ends_in) for u in result.users] == [(cal, 1), (bea, 2)]
    assert result.at_risk_count == 2 and result.summary == "2 users at risk of churning"
    assert steps == ["query-at-risk-users", "compile-report", "notify-team"]
    [message] = await slack_messages(own_sessions)
    assert message.idempotency_key == f"daily-churn-report/{run_id}/notify-team"
    lines = message.body.splitlines()
    assert lines[0].endswith("2 users at risk of churning")
    assert lines[1] == f"- Cal <{cal}@example.com> (pro): trial ends in 1 day, never active"
    assert lines[2].startswith(f"- Bea <{bea}@example.com> (pro): trial ends in 2 days, last ")
    assert len(lines) == 3


async def test_no_at_risk_users_returns_early_without_notifying(
    skipping_env: WorkflowEnvironment, own_sessions: Sessions, task_queue: str
) -> None:
    day = timedelta(days=1)
    await add_user(own_sessions, "Active", trial_ends_in=2 * day, last_active=timedelta(hours=1))
    await add_user(own_sessions, "Later", trial_ends_in=10 * day, last_active=None)

    result, _, steps = await run_report(skipping_env, own_sessions, task_queue)

    assert result == NoAtRiskUsers(report="No at-risk users today")
    assert steps == ["query-at-risk-users"]
    assert await slack_messages(own_sessions) == []
