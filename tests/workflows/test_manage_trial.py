"""manage-trial-workflow on the time-skipping server: 14 days in milliseconds, with the real
activities and database; conversion arrives as a routed `billing/subscription.created`."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from activities.access import AccessActivities, UserContact, UserRef
from db.models import AnalyticsEvent, OutboxMessage, Subscription, User
from events.billing import SubscriptionCreated, SubscriptionCreatedData
from events.users import TrialStarted, TrialStartedData
from inngest_temporal import Sessions
from inngest_temporal.store import EventRoute
from tests.support import Sender, make_worker, sender, step_times, unique
from workflows.manage_trial import ManageTrialWorkflow, TrialResult

DAY = timedelta(days=1)


async def create_user(sessions: Sessions, plan: str = "pro") -> User:
    user_id = unique("user")
    user = User(id=user_id, email=f"{user_id}@example.com", name="Ada", plan=plan)
    async with sessions() as session:
        session.add(user)
        await session.commit()
    return user


async def start_trial(
    env: WorkflowEnvironment, user: User, task_queue: str, days: int = 14
) -> WorkflowHandle[Any, TrialResult]:
    now = await env.get_current_time()
    event = TrialStarted(
        id=unique("evt"),
        ts=int(now.timestamp() * 1000),
        data=TrialStartedData(user_id=user.id, trial_end_date=now + days * DAY),
    )
    # The id the router gives the run, so the router's cancel finds it.
    return await env.client.start_workflow(
        ManageTrialWorkflow.run,
        event,
        id=ManageTrialWorkflow.spec.keyed_workflow_id(user.id),
        task_queue=task_queue,
    )


async def subscribe(router: Sender, user_id: str) -> str:
    event = SubscriptionCreated(
        id=unique("evt"),
        data=SubscriptionCreatedData(user_id=user_id, subscription_id=unique("sub"), plan="pro"),
    )
    await router.send([event])
    return event.id


async def emails_to(sessions: Sessions, user: User) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.subject)
            .where(OutboxMessage.recipient == user.email)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def wait_for_emails(sessions: Sessions, user: User, count: int) -> list[str]:
    for _ in range(200):
        subjects = await emails_to(sessions, user)
        if len(subjects) >= count:
            return subjects
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} emails, got {await emails_to(sessions, user)}")


async def plan_of(sessions: Sessions, user: User) -> str:
    async with sessions() as session:
        plan: str = (await session.scalars(select(User.plan).where(User.id == user.id))).one()
        return plan


def router_for(env: WorkflowEnvironment, sessions: Sessions, task_queue: str) -> Sender:
    return sender(env.client, sessions, task_queue)


async def test_without_conversion_reminds_on_days_7_and_13_and_downgrades_on_day_14(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue)
        result = await handle.result()
        times = await step_times(handle)

    assert result == TrialResult(user_id=user.id, converted=False)
    assert [(step, round(at / DAY, 2)) for step, at in times] == [
        ("load-user", 0),
        ("send-mid-trial-email", 7),
        ("send-trial-ending-email", 13),
        ("check-subscription", 14),
        ("downgrade-to-free", 14),
        ("send-downgrade-email", 14),
    ]
    assert await emails_to(sessions, user) == [
        "You're halfway through your trial!",
        "Your trial ends tomorrow!",
        "Your trial has ended",
    ]
    assert await plan_of(sessions, user) == "free"
    async with sessions() as session:
        change = (
            await session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.user_id == user.id))
        ).one()
    assert (change.name, change.properties["from"]) == ("plan_downgraded", "pro")


async def test_a_30_day_trial_follows_its_end_date_midpoint_day_before_and_end(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue, days=30)
        result = await handle.result()
        times = await step_times(handle)

    assert result == TrialResult(user_id=user.id, converted=False)
    assert [(step, round(at / DAY, 2)) for step, at in times] == [
        ("load-user", 0),
        ("send-mid-trial-email", 15),
        ("send-trial-ending-email", 29),
        ("check-subscription", 30),
        ("downgrade-to-free", 30),
        ("send-downgrade-email", 30),
    ]
    assert await emails_to(sessions, user) == [
        "You're halfway through your trial!",
        "Your trial ends tomorrow!",
        "Your trial has ended",
    ]
    assert await plan_of(sessions, user) == "free"


async def subscribed(sessions: Sessions, user: User, status: str = "active") -> str:
    """A subscription recorded as the billing endpoint or Stripe's webhook records one."""
    subscription_id = unique("sub")
    async with sessions() as session:
        session.add(Subscription(id=subscription_id, user_id=user.id, plan="pro", status=status))
        await session.commit()
    return subscription_id


async def test_a_user_already_paying_when_the_trial_starts_gets_no_trial_email(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    await subscribed(sessions, user, status="trialing")  # Stripe's trial: as paid
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue)
        result = await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert result == TrialResult(user_id=user.id, converted=True)
    # Each email step ran, read the subscription, and sent nothing; no downgrade.
    assert steps == [
        "load-user",
        "send-mid-trial-email",
        "send-trial-ending-email",
        "check-subscription",
    ]
    assert await emails_to(sessions, user) == []
    assert await plan_of(sessions, user) == "pro"


async def test_a_subscription_announced_before_the_trial_run_existed_is_still_honoured(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """The subscription's event found no run to cancel (the trial's own event was not routed
    yet); the run that starts afterwards reads the subscription before every email."""
    user = await create_user(sessions)
    await subscribed(sessions, user)
    router = router_for(skipping_env, sessions, task_queue)
    event_id = await subscribe(router, user.id)
    async with sessions() as session:
        [route] = await session.scalars(select(EventRoute).where(EventRoute.event_id == event_id))
    assert (route.function_id, route.action) == ("manage-trial-workflow", "no-run")

    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue)
        result = await handle.result()

    assert result == TrialResult(user_id=user.id, converted=True)
    assert await emails_to(sessions, user) == []
    assert await plan_of(sessions, user) == "pro"


async def test_subscription_on_day_8_cancels_the_trial_between_steps(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    router = router_for(skipping_env, sessions, task_queue)
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue)
        await skipping_env.sleep(8 * DAY)
        assert await wait_for_emails(sessions, user, 1) == ["You're halfway through your trial!"]
        event_id = await subscribe(router, user.id)
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        description = await handle.describe()
        reason = await cancel_reason(handle)

    assert isinstance(failure.value.cause, CancelledError)
    assert description.status == WorkflowExecutionStatus.CANCELED
    assert reason == f"cancelled by event billing/subscription.created {event_id}"
    assert [step for step, _ in await step_times(handle)] == ["load-user", "send-mid-trial-email"]
    assert await emails_to(sessions, user) == ["You're halfway through your trial!"]
    assert await plan_of(sessions, user) == "pro"


async def test_active_subscription_found_at_the_end_means_converted_and_no_downgrade(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user = await create_user(sessions)
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue)
        await skipping_env.sleep(10 * DAY)
        # Subscribed without the event reaching the run (e.g. created in Stripe's dashboard).
        async with sessions() as session:
            session.add(
                Subscription(id=unique("sub"), user_id=user.id, plan="enterprise", status="active")
            )
            await session.commit()
        result = await handle.result()

    assert result == TrialResult(user_id=user.id, converted=True)
    assert [step for step, _ in await step_times(handle)][-1] == "check-subscription"
    # The day-13 email read the subscription it would have contradicted, and was not sent.
    assert await emails_to(sessions, user) == ["You're halfway through your trial!"]
    assert await plan_of(sessions, user) == "pro"


async def test_subscription_of_another_user_cancels_nothing(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user, other = await create_user(sessions), await create_user(sessions)
    router = router_for(skipping_env, sessions, task_queue)
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await start_trial(skipping_env, user, task_queue)
        await skipping_env.sleep(8 * DAY)
        await subscribe(router, other.id)
        result = await handle.result()

    assert result == TrialResult(user_id=user.id, converted=False)
    assert len(await emails_to(sessions, user)) == 3
    assert await plan_of(sessions, user) == "free"


async def test_subscription_during_a_step_lets_it_finish_then_ends_the_run(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """The cancelling event arrives while load-user is executing: not lost, and the step's
    effect is not cut in half; no timer or email follows."""
    user = await create_user(sessions)
    router = router_for(skipping_env, sessions, task_queue)
    started, release = asyncio.Event(), asyncio.Event()
    real = AccessActivities(sessions)

    @activity.defn(name="load_user_contact")
    async def slow_load_user_contact(ref: UserRef) -> UserContact:
        started.set()
        await release.wait()
        return await real.load_user_contact(ref)

    async with make_worker(
        skipping_env.client, sessions, task_queue, fakes=[slow_load_user_contact]
    ):
        handle = await start_trial(skipping_env, user, task_queue)
        await asyncio.wait_for(started.wait(), 10)
        await subscribe(router, user.id)
        release.set()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        description = await handle.describe()

    assert description.status == WorkflowExecutionStatus.CANCELED
    assert await emails_to(sessions, user) == []
    assert await plan_of(sessions, user) == "pro"


async def cancel_reason(handle: WorkflowHandle[Any, Any]) -> str:
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_cancel_requested_event_attributes"):
            return str(event.workflow_execution_cancel_requested_event_attributes.cause)
    raise AssertionError("the run was never asked to cancel")
