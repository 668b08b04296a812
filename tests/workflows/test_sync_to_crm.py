"""sync-to-crm on the time-skipping server: real activity, real HTTP to a fake CRM on 127.0.0.1,
real database. Backoff delays are virtual, so a 1-2-4-8 s schedule costs milliseconds."""

from datetime import datetime, timedelta
from itertools import pairwise

import httpx
import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.crm import CrmActivities, CrmPushRequest, CrmReceipt
from db.models import CrmPush, OutboxMessage
from events.users import SignupCompleted, SignupCompletedData
from inngest_temporal import Sessions
from settings import Settings
from tests.fake_crm import Failure, FakeCrm
from tests.support import make_worker, unique
from workflows.sync_to_crm import SyncToCrmWorkflow


def signup(user_id: str, provider: str | None) -> SignupCompleted:
    return SignupCompleted(
        id=unique("evt"),
        data=SignupCompletedData(
            user_id=user_id,
            email=f"{user_id}@example.com",
            name="Grace",
            plan="pro",
            crm_provider=provider,
        ),
    )


async def sync(
    env: WorkflowEnvironment,
    sessions: Sessions,
    task_queue: str,
    crm: FakeCrm,
    event: SignupCompleted,
) -> tuple[CrmReceipt, list[tuple[int, datetime]]]:
    """Runs sync-to-crm against `crm`; returns the receipt and each attempt's (number, start
    time), observed by a thin wrapper around the real activity."""
    urls = {"acme": crm.url("acme")}
    attempts: list[tuple[int, datetime]] = []
    async with httpx.AsyncClient() as http:
        real = CrmActivities(sessions, urls, http)

        @activity.defn(name="push_to_crm")
        async def observed_push(push: CrmPushRequest) -> CrmReceipt:
            info = activity.info()
            attempts.append((info.attempt, info.started_time))
            return await real.push_to_crm(push)

        settings = Settings(environment="test", crm_webhook_urls=urls)
        async with make_worker(
            env.client, sessions, task_queue, settings=settings, fakes=[observed_push]
        ):
            receipt = await env.client.execute_workflow(
                SyncToCrmWorkflow.run, event, id=unique("sync"), task_queue=task_queue
            )
    return receipt, attempts


async def push_row(sessions: Sessions, user_id: str) -> CrmPush:
    async with sessions() as session:
        return (await session.scalars(select(CrmPush).where(CrmPush.user_id == user_id))).one()


async def test_failing_provider_is_retried_with_growing_backoff_then_synced_once(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user_id = unique("user")
    crm = FakeCrm(failures=[Failure(503), Failure(500), Failure(503), Failure(429)])
    with crm.running():
        receipt, attempts = await sync(
            skipping_env, sessions, task_queue, crm, signup(user_id, "acme")
        )

    assert [number for number, _ in attempts] == [1, 2, 3, 4, 5]
    times = [started for _, started in attempts]
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    # Exponential from 1 s, doubling (Backoff(min_delay=1s, max_delay=5m)).
    assert gaps == pytest.approx([1, 2, 4, 8], abs=0.5)
    keys = {r.idempotency_key for r in crm.requests}
    assert len(crm.requests) == 5 and len(keys) == 1  # one key for every attempt
    assert crm.effects_for(user_id) == 1
    assert receipt.transport == "webhook" and receipt.crm_record_id == crm.effects[keys.pop()]
    row = await push_row(sessions, user_id)
    assert (row.status, row.attempts, row.response_status) == ("synced", 5, 200)


async def test_retry_after_from_the_provider_is_honoured(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    crm = FakeCrm(failures=[Failure(429, {"Retry-After": "120"})])
    with crm.running():
        _, attempts = await sync(
            skipping_env, sessions, task_queue, crm, signup(unique("user"), "acme")
        )
    assert len(attempts) == 2
    assert attempts[1][1] - attempts[0][1] >= timedelta(seconds=120)  # not the 1 s backoff


async def test_provider_refusing_the_contact_fails_at_once(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user_id = unique("user")
    crm = FakeCrm(failures=[Failure(422)])
    with crm.running(), pytest.raises(WorkflowFailureError) as failure:
        await sync(skipping_env, sessions, task_queue, crm, signup(user_id, "acme"))

    assert len(crm.requests) == 1
    cause = failure.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert cause.cause.non_retryable
    assert cause.cause.message.startswith(f"CRM 'acme' refused user {user_id} (422)")
    row = await push_row(sessions, user_id)
    assert (row.status, row.attempts, row.response_status) == ("refused", 1, 422)
    assert row.finished_at is not None
    async with sessions() as session:
        sent = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == row.idempotency_key)
        )
    assert sent is None


async def test_without_a_configured_provider_the_push_is_recorded_in_the_outbox(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user_id = unique("user")
    event = signup(user_id, None)
    assert event.data.crm_provider == "default"  # an absent provider is the "default" one
    crm = FakeCrm()
    with crm.running():
        receipt, _ = await sync(skipping_env, sessions, task_queue, crm, event)

    assert crm.requests == []
    assert (receipt.provider, receipt.transport) == ("default", "outbox")
    async with sessions() as session:
        sent = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id == receipt.outbox_id)
            )
        ).one()
    assert (sent.channel, sent.recipient, sent.transport) == ("crm", "default", "outbox")
    assert f'"userId":"{user_id}"' in sent.body
    row = await push_row(sessions, user_id)
    assert (row.status, row.transport, row.attempts) == ("synced", "outbox", 1)
