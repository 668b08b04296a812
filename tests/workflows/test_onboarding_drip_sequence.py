"""onboarding-drip-sequence on the time-skipping server: a week of emails in milliseconds, and
the skips decided from the user's record at the moment each email is due."""

from datetime import timedelta

from sqlalchemy import update
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.models import Subscription, User
from events.users import SignedUp, SignedUpData
from inngest_temporal import Sessions
from tests.shop import add_user, emails_to
from tests.support import eventually, make_worker, step_times, unique
from workflows.onboarding_drip_sequence import DripOutcome, OnboardingDripSequenceWorkflow

DAY = timedelta(days=1)


async def start(
    env: WorkflowEnvironment, user: User, task_queue: str
) -> WorkflowHandle[OnboardingDripSequenceWorkflow, DripOutcome]:
    event = SignedUp(
        id=unique("evt"), data=SignedUpData(user_id=user.id, email=user.email, name=user.name)
    )
    return await env.client.start_workflow(
        OnboardingDripSequenceWorkflow.run,
        event,
        id=unique("onboarding-drip-sequence"),
        task_queue=task_queue,
    )


async def test_four_emails_over_seven_days(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await add_user(sessions, name="Ada")

    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start(skipping_env, user, task_queue)
        outcome = await handle.result()
        steps = await step_times(handle)

    assert all(result.sent for result in outcome.emails.values())
    assert [(step, round(at / DAY)) for step, at in steps] == [
        ("send-welcome", 0),
        ("send-day-1-tips", 1),
        ("send-day-3-case-study", 3),
        ("send-day-7-upgrade", 7),
    ]
    emails = await emails_to(sessions, user.email)
    assert [e.subject for e in emails] == [
        "Welcome aboard, Ada!",
        "3 tips to get the most out of your first week",
        "How teams like yours save 10 hours a week",
        "20% off Pro, this week only",
    ]
    assert "<strong>WELCOME20</strong>" in emails[-1].body


async def test_no_tips_for_a_user_who_completed_onboarding_after_signing_up(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await add_user(sessions)

    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start(skipping_env, user, task_queue)
        # Time stands still until the result is awaited: complete onboarding on day 0.
        await eventually(lambda: emails_to(sessions, user.email))
        async with sessions() as session:
            await session.execute(
                update(User).where(User.id == user.id).values(onboarding_completed=True)
            )
            await session.commit()
        outcome = await handle.result()

    tips = outcome.emails["send-day-1-tips"]
    assert (tips.sent, tips.skipped_because) == (False, "onboarding completed")
    subjects = [e.subject for e in await emails_to(sessions, user.email)]
    assert len(subjects) == 3 and "3 tips to get the most out of your first week" not in subjects


async def test_a_user_on_pro_still_in_trial_gets_the_upgrade_offer(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """Signed up on `pro`, no subscription: a trial, not a customer. The offer is for them."""
    user = await add_user(sessions, plan="pro")

    async with make_worker(skipping_env.client, sessions, task_queue):
        outcome = await (await start(skipping_env, user, task_queue)).result()

    upgrade = outcome.emails["send-day-7-upgrade"]
    assert (upgrade.sent, upgrade.skipped_because) == (True, None)
    assert "WELCOME20" in (await emails_to(sessions, user.email))[-1].body


async def test_no_upgrade_offer_for_a_user_with_a_paid_subscription(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await add_user(sessions, plan="pro")
    async with sessions() as session:
        session.add(Subscription(id=unique("sub"), user_id=user.id, plan="pro", status="active"))
        await session.commit()

    async with make_worker(skipping_env.client, sessions, task_queue):
        outcome = await (await start(skipping_env, user, task_queue)).result()

    upgrade = outcome.emails["send-day-7-upgrade"]
    assert (upgrade.sent, upgrade.skipped_because) == (False, "already paying for pro")
    assert [r.sent for r in outcome.emails.values()] == [True, True, True, False]
    assert all("WELCOME20" not in e.body for e in await emails_to(sessions, user.email))
