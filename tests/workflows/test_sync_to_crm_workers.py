"""sync-to-crm with real worker processes on the dev server: the per-provider concurrency limit
holds across two workers (checked from the recorded push intervals), and a worker killed in the
middle of a push leaves exactly one effect at the CRM once a new worker finishes the run."""

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.crm import CrmReceipt
from db.models import CrmPush
from events.users import SignupCompleted, SignupCompletedData
from inngest_temporal import Sessions
from tests.fake_crm import FakeCrm
from tests.support import unique
from tests.worker_processes import worker_processes
from workflows.sync_to_crm import SyncToCrmWorkflow

LIMIT = 5  # SyncToCrmWorkflow's declared Concurrency(limit=5, key="data.crmProvider")


def signup(user_id: str, provider: str) -> SignupCompleted:
    return SignupCompleted(
        id=unique("evt"),
        data=SignupCompletedData(
            user_id=user_id,
            email=f"{user_id}@example.com",
            name="Lin",
            plan="free",
            crm_provider=provider,
        ),
    )


async def start_sync(
    env: WorkflowEnvironment, task_queue: str, user_id: str, provider: str
) -> WorkflowHandle[SyncToCrmWorkflow, CrmReceipt]:
    return await env.client.start_workflow(
        SyncToCrmWorkflow.run, signup(user_id, provider), id=unique("sync"), task_queue=task_queue
    )


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    # At equal times an end counts before a start: touching intervals do not overlap.
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


async def push_worker(handle: WorkflowHandle[Any, Any]) -> str:
    """The identity (pid@host) of the worker process that ran the run's push."""
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_started_event_attributes"):
            return event.activity_task_started_event_attributes.identity
    raise AssertionError(f"{handle.id} never started its push")


async def pushes(sessions: Sessions, user_ids: list[str]) -> list[CrmPush]:
    async with sessions() as session:
        return list(await session.scalars(select(CrmPush).where(CrmPush.user_id.in_(user_ids))))


async def test_at_most_five_pushes_per_provider_across_two_workers(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: Sessions,
    task_queue: str,
    tmp_path: Path,
) -> None:
    crm = FakeCrm(delay=0.3)  # slow enough for runs to pile up behind the limit
    busy = {
        provider: [unique("user") for _ in range(count)]
        for provider, count in [("slow", 20), ("other", 6)]
    }
    env = {"CRM_WEBHOOK_URLS": json.dumps({p: crm.url(p) for p in busy})}
    with crm.running():
        async with worker_processes(dev_env, database_url, task_queue, tmp_path, env=env):
            handles = await asyncio.gather(
                *(
                    start_sync(dev_env, task_queue, user_id, provider)
                    for provider, user_ids in busy.items()
                    for user_id in user_ids
                )
            )
            receipts = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 120)
        workers = {await push_worker(h) for h in handles}

    assert len(workers) == 2  # both processes pushed: the limit held across them
    assert all(r.transport == "webhook" for r in receipts)  # nothing dropped
    rows = await pushes(sessions, [u for user_ids in busy.values() for u in user_ids])
    assert all(r.status == "synced" and r.finished_at for r in rows) and len(rows) == 26
    overlap = {
        provider: max_overlap(
            [
                (r.started_at, r.finished_at)
                for r in rows
                if r.provider == provider and r.finished_at
            ]
        )
        for provider in busy
    }
    overall = max_overlap([(r.started_at, r.finished_at) for r in rows if r.finished_at])
    print(f"concurrency: max overlap per provider {overlap}, all providers together {overall}")
    assert overlap["slow"] == LIMIT  # reached, never exceeded
    assert overlap["other"] <= LIMIT
    assert overall > LIMIT  # the limit is per provider, not global
    assert len(crm.requests) == 26 and len(crm.effects) == 26


async def test_worker_killed_mid_push_finishes_on_a_new_worker_with_one_effect(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: Sessions,
    task_queue: str,
    tmp_path: Path,
) -> None:
    crm = FakeCrm(hold=True)  # every first attempt stays in flight until the worker is dead
    user_ids = [unique("user") for _ in range(3)]
    env = {"CRM_WEBHOOK_URLS": json.dumps({"slow": crm.url("slow")})}
    with crm.running():
        async with worker_processes(
            dev_env, database_url, task_queue, tmp_path, count=1, env=env
        ) as [first]:
            handles = [await start_sync(dev_env, task_queue, u, "slow") for u in user_ids]
            await asyncio.to_thread(crm.wait_for_requests, len(user_ids))
            first.kill()
            crm.release()
        async with worker_processes(dev_env, database_url, task_queue, tmp_path, count=1, env=env):
            receipts = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)

    for user_id, receipt in zip(user_ids, receipts, strict=True):
        keys = {r.idempotency_key for r in crm.requests if r.body["userId"] == user_id}
        attempts = [r for r in crm.requests if r.body["userId"] == user_id]
        assert len(attempts) == 2 and len(keys) == 1  # retried, with the same key
        assert crm.effects_for(user_id) == 1
        assert receipt.crm_record_id == crm.effects[keys.pop()]
    rows = await pushes(sessions, user_ids)
    assert sorted((r.status, r.attempts) for r in rows) == [("synced", 2)] * 3
