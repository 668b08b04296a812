"""Records the histories the replay test (tests/test_replay.py) keeps every pipeline compatible
with: each pipeline run to its end, and runs parked mid-sleep and mid-wait, on a time-skipping
server with the real activities and a fresh database. Run it after a deliberate change to a
pipeline's commands (behind `workflow.patched`), and commit what it writes:

    python -m tests.histories.record [NAME ...]

With names (e.g. `sync-to-crm`), only those are written: the others keep the histories of runs
that started on earlier code. A history that must keep replaying after a patch keeps its file
under a name of its own (e.g. `sync-to-crm.gate.json`: a run admitted by a gate workflow)."""

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from events.orders import OrderFulfilled, OrderFulfilledData, OrderShipped, OrderShippedData
from events.users import (
    EmailVerified,
    EmailVerifiedData,
    OnboardingCompleted,
    OnboardingCompletedData,
    SignedUp,
    SignedUpData,
    SignInRequested,
    SignInRequestedData,
    SignupCompleted,
    SignupCompletedData,
    TrialStarted,
    TrialStartedData,
)
from inngest_temporal import (
    ScheduledTimer,
    ScheduledTimerData,
    Sessions,
    create_engine,
    session_factory,
)
from tests.conftest import tool
from tests.fixtures import CONVERTER, migrate
from tests.shop import add_order, add_product, add_refund_request, add_user, shop_settings
from tests.support import make_worker, unique
from workflows.daily_churn_report import DailyChurnReportWorkflow
from workflows.handle_order_shipped import HandleOrderShippedWorkflow
from workflows.manage_trial import ManageTrialWorkflow
from workflows.mark_onboarding_completed import MarkOnboardingCompletedWorkflow
from workflows.onboarding_drip_sequence import OnboardingDripSequenceWorkflow
from workflows.onboarding_with_verification import OnboardingWithVerificationWorkflow
from workflows.process_order import ProcessOrderWorkflow
from workflows.process_refund import ProcessRefundWorkflow
from workflows.provision_account import ProvisionAccountWorkflow
from workflows.send_daily_digest import SendDailyDigestWorkflow
from workflows.send_sign_in_link import SendSignInLinkWorkflow
from workflows.send_welcome_email import SendWelcomeEmailWorkflow
from workflows.sync_to_crm import SyncToCrmWorkflow
from workflows.update_loyalty_points import UpdateLoyaltyPointsWorkflow

HERE = Path(__file__).resolve().parent
TASK_QUEUE = "histories"
ONLY = set(sys.argv[1:])


async def start(
    client: Client, workflow: Any, event: Any, workflow_id: str
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(workflow.run, event, id=workflow_id, task_queue=TASK_QUEUE)


async def save(handle: WorkflowHandle[Any, Any], name: str) -> None:
    if ONLY and name not in ONLY:
        return
    history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())
    print(f"recorded {name}: {len(history.events)} events")


async def parked(handle: WorkflowHandle[Any, Any], waiting: Callable[[Any], bool]) -> None:
    """Until the run's history shows it parked (a timer or a wait started)."""
    for _ in range(600):
        if [e async for e in handle.fetch_history_events() if waiting(e)]:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(handle.id)


def timer(event: Any) -> bool:
    return bool(event.HasField("timer_started_event_attributes"))


def signup(user_id: str) -> SignupCompleted:
    return SignupCompleted(
        id=f"signup-{user_id}",
        data=SignupCompletedData(
            user_id=user_id, email=f"{user_id}@example.com", name="Ada", plan="pro"
        ),
    )


async def record_all(client: Client, env: WorkflowEnvironment, sessions: Sessions) -> None:
    done: list[tuple[WorkflowHandle[Any, Any], str]] = []

    async def finished(workflow: Any, event: Any, name: str) -> None:
        handle = await start(client, workflow, event, unique(name))
        await handle.result()
        done.append((handle, name))

    user = await add_user(sessions)
    await finished(ProvisionAccountWorkflow, signup(unique("user")), "provision-account")
    await finished(SendWelcomeEmailWorkflow, signup(unique("user")), "send-welcome-email")
    await finished(SyncToCrmWorkflow, signup(unique("user")), "sync-to-crm")
    await finished(
        SendSignInLinkWorkflow,
        SignInRequested(
            id=unique("sign-in"), data=SignInRequestedData(user_id=user.id, email=user.email)
        ),
        "send-sign-in-link",
    )
    await finished(
        MarkOnboardingCompletedWorkflow,
        OnboardingCompleted(id=unique("done"), data=OnboardingCompletedData(user_id=user.id)),
        "mark-onboarding-completed",
    )
    timer_event = ScheduledTimer(data=ScheduledTimerData(cron="0 9 * * *"))
    await finished(DailyChurnReportWorkflow, timer_event, "daily-churn-report")
    await finished(SendDailyDigestWorkflow, timer_event, "send-daily-digest")

    product = await add_product(sessions, 10)
    order = await add_order(sessions, user.id, [(product, 1, 2_500)])
    await finished(ProcessOrderWorkflow, order, "process-order")
    fulfilled = await add_order(sessions, user.id, [(product, 1, 2_500)], "fulfilled")
    shipped = OrderShipped(
        id=unique("shipped"),
        data=OrderShippedData(order_id=fulfilled.data.order_id, tracking_number="1Z"),
    )
    await finished(HandleOrderShippedWorkflow, shipped, "handle-order-shipped")
    loyalty = OrderFulfilled(
        id=unique("fulfilled"),
        data=OrderFulfilledData(
            order_id=fulfilled.data.order_id,
            customer_id=user.id,
            total_cents=2_500,
            fulfillment_id="ful_1",
        ),
    )
    await finished(UpdateLoyaltyPointsWorkflow, loyalty, "update-loyalty-points")
    small = await add_order(sessions, user.id, [(product, 1, 2_500)], "fulfilled")
    await finished(
        ProcessRefundWorkflow,
        await add_refund_request(sessions, small, user, 500, "processing"),
        "process-refund",
    )

    # Parked: mid-sleep and mid-wait.
    trial_user = await add_user(sessions)
    trial = await start(
        client,
        ManageTrialWorkflow,
        TrialStarted(
            id=unique("trial"),
            data=TrialStartedData(
                user_id=trial_user.id,
                # The server's clock: it has skipped ahead of ours.
                trial_end_date=await env.get_current_time() + timedelta(days=14),
            ),
        ),
        unique("trial"),
    )
    await parked(trial, timer)
    await save(trial, "manage-trial-workflow.mid-sleep")
    drip = await start(
        client,
        OnboardingDripSequenceWorkflow,
        SignedUp(
            id=unique("signed-up"),
            data=SignedUpData(user_id=trial_user.id, email=trial_user.email, name="Ada"),
        ),
        unique("drip"),
    )
    await parked(drip, timer)
    await save(drip, "onboarding-drip-sequence.mid-sleep")
    verifying = await start(
        client, OnboardingWithVerificationWorkflow, signup(trial_user.id), unique("verify")
    )
    await parked(verifying, timer)
    await save(verifying, "onboarding-with-verification.mid-wait")
    big = await add_order(sessions, user.id, [(product, 1, 25_000)], "fulfilled")
    refund = await start(
        client,
        ProcessRefundWorkflow,
        await add_refund_request(sessions, big, user, 25_000, "awaiting_approval"),
        unique("refund"),
    )
    await parked(refund, timer)
    await save(refund, "process-refund.mid-wait")

    # The parked ones, run to their end as well.
    await refund.signal(
        "event",
        {
            "name": "refund/decision",
            "id": unique("decision"),
            "ts": 0,
            "data": {"orderId": big.data.order_id, "action": "approved"},
        },
    )
    await verifying.signal(
        "event",
        EmailVerified(
            id=unique("verified"), data=EmailVerifiedData(user_id=trial_user.id)
        ).to_json()
        | {"ts": 1_800_000_000_000},
    )
    for handle, name in (
        (trial, "manage-trial-workflow"),
        (drip, "onboarding-drip-sequence"),
        (verifying, "onboarding-with-verification"),
        (refund, "process-refund.approved"),
    ):
        while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await env.sleep(timedelta(days=1))
        await handle.result()
        done.append((handle, name))
    for handle, name in done:
        await save(handle, name)


async def main(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=tool("temporal-test-server"), data_converter=CONVERTER
    )
    try:
        async with make_worker(env.client, sessions, TASK_QUEUE, settings=shop_settings()):
            await record_all(env.client, env, sessions)
    finally:
        await env.shutdown()
        await engine.dispose()


if __name__ == "__main__":
    os.environ.setdefault("ENVIRONMENT", "test")
    with tempfile.TemporaryDirectory() as directory:
        # Alembic runs its own event loop: migrate before ours starts.
        asyncio.run(main(migrate(f"sqlite+aiosqlite:///{Path(directory) / 'app.db'}")))
