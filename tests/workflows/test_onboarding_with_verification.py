"""onboarding-with-verification on the time-skipping server: the link, the 24-hour wait matched on
the user, activation or reminder, and no lost wake-up (inngest/inngest#1433)."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.mail import EmailReceipt
from activities.verification import VerificationEmail
from auth.tokens import verify_token
from db.models import OutboxMessage, User
from events.users import EmailVerified, EmailVerifiedData, SignupCompleted, SignupCompletedData
from inngest_temporal import Sessions
from settings import Settings
from tests.support import make_worker, sender, step_times, unique
from workflows.onboarding_with_verification import (
    OnboardingWithVerificationWorkflow,
    Unverified,
    VerificationResult,
    Verified,
)

HOUR = timedelta(hours=1)
SETTINGS = Settings(environment="test", secret_key="s3cret", public_base_url="https://app.test")


async def create_user(sessions: Sessions) -> User:
    user_id = unique("user")
    user = User(id=user_id, email=f"{user_id}@example.com", name="Ada", plan="free")
    async with sessions() as session:
        session.add(user)
        await session.commit()
    return user


async def start(
    env: WorkflowEnvironment, user: User, task_queue: str
) -> WorkflowHandle[Any, VerificationResult]:
    event = SignupCompleted(
        id=unique("evt"),
        data=SignupCompletedData(user_id=user.id, email=user.email, name=user.name, plan="free"),
    )
    return await env.client.start_workflow(
        OnboardingWithVerificationWorkflow.run,
        event,
        id=OnboardingWithVerificationWorkflow.spec.keyed_workflow_id(user.id),
        task_queue=task_queue,
    )


async def verify(
    env: WorkflowEnvironment, sessions: Sessions, task_queue: str, user_id: str
) -> None:
    router = sender(env.client, sessions, task_queue)
    await router.send([EmailVerified(id=unique("evt"), data=EmailVerifiedData(user_id=user_id))])


async def emails_to(sessions: Sessions, user: User) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == user.email)
                .order_by(OutboxMessage.id)
            )
        )


async def wait_for_email(sessions: Sessions, user: User) -> OutboxMessage:
    for _ in range(200):
        if sent := await emails_to(sessions, user):
            return sent[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the verification email was never sent")


async def reload(sessions: Sessions, user: User) -> User:
    async with sessions() as session:
        return (await session.scalars(select(User).where(User.id == user.id))).one()


async def test_verification_at_hour_23_activates_full_access(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    async with make_worker(skipping_env.client, sessions, task_queue, settings=SETTINGS):
        handle = await start(skipping_env, user, task_queue)
        email = await wait_for_email(sessions, user)
        await skipping_env.sleep(23 * HOUR)
        await verify(skipping_env, sessions, task_queue, user.id)
        result = await handle.result()
        times = dict(await step_times(handle))

    assert result == Verified(activated=True)
    assert times["send-verification-email"] < HOUR
    assert 23 * HOUR <= times["activate-full-access"] < 24 * HOUR
    assert "send-reminder" not in times
    link = email.body.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert link.startswith("https://app.test/api/auth/verify?token=")
    token = parse_qs(urlparse(link).query)["token"][0]
    claims = verify_token("s3cret", token, "email-verification", datetime.now(UTC))
    assert claims.user_id == user.id
    refreshed = await reload(sessions, user)
    assert refreshed.full_access is True
    assert refreshed.email_verified_at is not None


async def test_no_verification_times_out_at_hour_24_and_sends_a_reminder(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user, other = await create_user(sessions), await create_user(sessions)
    async with make_worker(skipping_env.client, sessions, task_queue, settings=SETTINGS):
        handle = await start(skipping_env, user, task_queue)
        await wait_for_email(sessions, user)
        await skipping_env.sleep(HOUR)
        await verify(
            skipping_env, sessions, task_queue, other.id
        )  # another user's click wakes nothing
        result = await handle.result()
        times = dict(await step_times(handle))

    assert result == Unverified(reminded=True)
    assert round(times["send-reminder"] / HOUR, 2) == 24
    assert "activate-full-access" not in times
    assert [m.subject for m in await emails_to(sessions, user)] == [
        "Verify your email",
        "Reminder: please verify your email",
    ]
    refreshed = await reload(sessions, user)
    assert (refreshed.full_access, refreshed.email_verified_at) == (False, None)


async def test_verifying_from_the_reminder_link_still_activates_full_access(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    async with make_worker(skipping_env.client, sessions, task_queue, settings=SETTINGS):
        handle = await start(skipping_env, user, task_queue)
        await wait_for_email(sessions, user)
        await skipping_env.sleep(30 * HOUR)
        await verify(skipping_env, sessions, task_queue, user.id)
        result = await handle.result()
        times = dict(await step_times(handle))

    assert result == Verified(activated=True)
    assert round(times["send-reminder"] / HOUR, 2) == 24
    assert round(times["activate-full-access"] / HOUR) == 30
    assert (await reload(sessions, user)).full_access is True


async def test_verification_arriving_while_the_link_is_still_being_sent_is_not_lost(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """The user clicks before the run reaches its wait (the send step has not even returned):
    Inngest drops such an event (#1433); here the run keeps it and activates at once."""
    user = await create_user(sessions)
    sending, delivered = asyncio.Event(), asyncio.Event()

    @activity.defn(name="send_verification_email")
    async def send_blocking_until_delivered(request: VerificationEmail) -> EmailReceipt:
        sending.set()
        await delivered.wait()
        return EmailReceipt(
            message_id="held", to=request.email, status="outbox", transport="outbox"
        )

    async with make_worker(
        skipping_env.client,
        sessions,
        task_queue,
        settings=SETTINGS,
        fakes=[send_blocking_until_delivered],
    ):
        handle = await start(skipping_env, user, task_queue)
        await asyncio.wait_for(sending.wait(), 10)
        await verify(skipping_env, sessions, task_queue, user.id)
        delivered.set()
        result = await handle.result()
        times = dict(await step_times(handle))

    assert result == Verified(activated=True)
    assert times["activate-full-access"] < HOUR
    assert (await reload(sessions, user)).full_access is True
