"""A worker process killed with SIGKILL in the middle of a trial, then replaced by another worker
(this process's: a second worker process would cost the suite 3 s of CPU to prove the same): the
trial still finishes on time-skipping time, and each of its effects happened exactly once."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.models import AnalyticsEvent, OutboxMessage, User
from events.users import TrialStarted, TrialStartedData
from inngest_temporal import Sessions
from tests.processes import WorkerProcess
from tests.support import make_worker, unique
from workflows.manage_trial import ManageTrialWorkflow, TrialResult


async def subjects_to(sessions: Sessions, email: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.subject)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


@pytest.mark.long
async def test_trial_survives_a_worker_killed_after_the_mid_trial_email(
    skipping_env: WorkflowEnvironment,
    sessions: Sessions,
    database_url: str,
    task_queue: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user_id = unique("user")
    email = f"{user_id}@example.com"
    async with sessions() as session:
        session.add(User(id=user_id, email=email, name="Kim", plan="pro"))
        await session.commit()
    address = skipping_env.client.service_client.config.target_host
    log = tmp_path / "worker.log"
    # The time-skipping server has no Schedules, and never times out the sticky queue of a
    # killed worker (a real server does after 10 s): no sticky cache, every task goes to the
    # shared queue and is replayed from history by whichever worker polls it.
    env = {
        "MANAGE_SCHEDULES": "false",
        "WORKER_MAX_CACHED_WORKFLOWS": "0",
        "WORKER_BUILD_ID": "release-1",
    }
    first = WorkerProcess(address, database_url, task_queue, log, env).start()
    try:
        handle = await skipping_env.client.start_workflow(
            ManageTrialWorkflow.run,
            TrialStarted(
                id=unique("evt"),
                data=TrialStartedData(
                    user_id=user_id, trial_end_date=datetime.now(UTC) + timedelta(days=14)
                ),
            ),
            id=ManageTrialWorkflow.spec.keyed_workflow_id(user_id),
            task_queue=task_queue,
        )
        await skipping_env.sleep(timedelta(days=7, hours=1))
        for _ in range(300):
            if await subjects_to(sessions, email):
                break
            await asyncio.sleep(0.02)
        first.kill()  # as soon as the mid-trial email is in the outbox
    finally:
        first.stop()
    caplog.set_level(logging.INFO, logger="pipelines.email")
    async with make_worker(skipping_env.client, sessions, task_queue, max_cached_workflows=0):
        result = await asyncio.wait_for(handle.result(), 120)

    assert result == TrialResult(user_id=user_id, converted=False)
    # The rest of the trial was the new worker's work.
    # (its log names the step whose email it kept: ids, not the subject, which names people)
    assert any("send-trial-ending-email kept in the outbox" in m for m in caplog.messages)
    assert await subjects_to(sessions, email) == [
        "You're halfway through your trial!",
        "Your trial ends tomorrow!",
        "Your trial has ended",
    ]
    async with sessions() as session:
        plan = await session.scalar(select(User.plan).where(User.id == user_id))
        downgrades = await session.scalar(
            select(func.count()).where(
                AnalyticsEvent.user_id == user_id, AnalyticsEvent.name == "plan_downgraded"
            )
        )
    assert (plan, downgrades) == ("free", 1)
    # worker.py names the build it reports to Temporal (the time-skipping server keeps no build
    # ids in its histories: tests/engine/test_build_id.py reads them on a real one).
    assert f"worker on task queue {task_queue}, build release-1:" in log.read_text()
