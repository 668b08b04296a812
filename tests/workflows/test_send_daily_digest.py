"""send-daily-digest on the time-skipping server, against a database of its own: with no admin
user the run says nobody was sent the digest, rather than reporting success to nobody."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from activities.digest import NO_ADMINS
from db.models import OutboxMessage
from inngest_temporal import ScheduledTimer, ScheduledTimerData, Sessions, create_engine
from inngest_temporal import session_factory as sessions_of
from tests.fixtures import migrate
from tests.support import make_worker, step_ids, unique
from workflows.send_daily_digest import DigestReport, SendDailyDigestWorkflow


@pytest.fixture
def empty_database(tmp_path: Path) -> str:
    """A fresh database: no admin from another test."""
    return migrate(f"sqlite+aiosqlite:///{tmp_path / 'digest.db'}")


@pytest.fixture
async def empty_sessions(empty_database: str) -> AsyncIterator[Sessions]:
    engine = create_engine(empty_database)
    yield sessions_of(engine)
    await engine.dispose()


async def test_with_no_admin_the_digest_says_nobody_was_sent_it(
    skipping_env: WorkflowEnvironment, empty_sessions: Sessions, task_queue: str
) -> None:
    async with make_worker(skipping_env.client, empty_sessions, task_queue):
        handle = await skipping_env.client.start_workflow(
            SendDailyDigestWorkflow.run,
            ScheduledTimer(data=ScheduledTimerData(cron="0 9 * * *")),
            id=unique("send-daily-digest"),
            task_queue=task_queue,
        )
        report = await handle.result()
        steps = await step_ids(handle)

    assert isinstance(report, DigestReport)
    assert (report.recipients, report.skipped_because) == ([], NO_ADMINS)
    assert report.stats.order_count == 0
    assert steps == ["fetch-stats", "send-digest-emails"]
    async with empty_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
