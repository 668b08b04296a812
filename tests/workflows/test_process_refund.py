"""process-refund on the time-skipping server: small refunds go straight through; large ones wait
for a person's decision (delivered by the router, matched on the order id) for up to 48 hours."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.payments import PaymentRefund, PaymentRefundReceipt, RefundRefused
from db.models import Order, OutboxMessage, Refund, User
from events.orders import RefundDecision, RefundDecisionData, RefundRequested
from inngest_temporal import Sessions
from tests.shop import add_order, add_product, add_refund_request, add_user, emails_to
from tests.support import Sender, eventually, make_worker, sender, step_times, unique
from workflows.process_refund import ProcessRefundWorkflow, RefundOutcome


async def refund_case(
    sessions: Sessions, amount_cents: int, status: str
) -> tuple[User, RefundRequested]:
    """A customer with a fulfilled $250.00 order and a refund request for part of it."""
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 5, price_cents=25_000)
    order = await add_order(sessions, customer.id, [(product_id, 1, 25_000)], status="fulfilled")
    return customer, await add_refund_request(sessions, order, customer, amount_cents, status)


def router_for(env: WorkflowEnvironment, sessions: Sessions, task_queue: str) -> Sender:
    """Routes events the way the API does: the run's id is keyed by the order."""
    return sender(env.client, sessions, task_queue)


def run_of(
    env: WorkflowEnvironment, request: RefundRequested
) -> WorkflowHandle[ProcessRefundWorkflow, RefundOutcome]:
    workflow_id = ProcessRefundWorkflow.spec.keyed_workflow_id(request.data.order_id)
    return env.client.get_workflow_handle_for(ProcessRefundWorkflow.run, workflow_id)


async def refund_row(sessions: Sessions, order_id: str) -> tuple[Refund, Order]:
    async with sessions() as session:
        refund, order = await session.get(Refund, order_id), await session.get(Order, order_id)
    assert refund is not None and order is not None
    return refund, order


async def support_message(sessions: Sessions, key_prefix: str) -> OutboxMessage | None:
    async with sessions() as session:
        found: OutboxMessage | None = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.channel == "slack",
                OutboxMessage.idempotency_key.startswith(key_prefix),
            )
        )
    return found


def decision(order_id: str, action: str) -> RefundDecision:
    return RefundDecision(
        id=unique("evt"),
        data=RefundDecisionData.model_validate(
            {"orderId": order_id, "action": action, "decidedBy": "Lin"}
        ),
    )


async def test_a_small_refund_needs_no_approval(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer, request = await refund_case(sessions, 4_000, "processing")

    async with make_worker(skipping_env.client, sessions, task_queue):
        await router_for(skipping_env, sessions, task_queue).send([request])
        handle = run_of(skipping_env, request)
        outcome = await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert steps == ["process-payment-refund", "update-records", "notify-customer"]
    assert outcome.approved and outcome.refund_id and outcome.refund_id.startswith("re_local_")
    refund, order = await refund_row(sessions, request.data.order_id)
    assert (refund.status, refund.refund_id, refund.provider) == (
        "completed",
        outcome.refund_id,
        "local",
    )
    assert order.status == "partially_refunded"
    [email] = await emails_to(sessions, customer.email)
    assert email.subject == "Your refund of $40.00 is on its way"


async def test_a_large_refund_waits_for_approval_then_pays_out(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer, request = await refund_case(sessions, 25_000, "awaiting_approval")
    order_id = request.data.order_id

    async with make_worker(skipping_env.client, sessions, task_queue):
        router = router_for(skipping_env, sessions, task_queue)
        await router.send([request])
        handle = run_of(skipping_env, request)
        posted = await eventually(lambda: support_message(sessions, f"process-refund/{request.id}"))
        await router.send([decision(order_id, "approved")])
        outcome = await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert steps == [
        "notify-support",
        "record-approval",
        "process-payment-refund",
        "update-records",
        "notify-customer",
    ]
    assert "$250.00" in posted.body and "Arrived broken" in posted.body
    assert f"POST http://127.0.0.1:8000/api/refunds/{order_id}/approve" in posted.body
    assert f"POST http://127.0.0.1:8000/api/refunds/{order_id}/reject" in posted.body
    assert outcome.approved
    refund, order = await refund_row(sessions, order_id)
    assert (refund.status, order.status) == ("completed", "refunded")
    [email] = await emails_to(sessions, customer.email)
    assert email.subject == "Your refund of $250.00 is on its way"


async def test_a_rejected_refund_is_marked_and_the_customer_told(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer, request = await refund_case(sessions, 20_000, "awaiting_approval")

    async with make_worker(skipping_env.client, sessions, task_queue):
        router = router_for(skipping_env, sessions, task_queue)
        await router.send([request])
        # At once, before the run reaches its wait: the decision is kept, not lost.
        await router.send([decision(request.data.order_id, "rejected")])
        handle = run_of(skipping_env, request)
        outcome = await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert steps == ["notify-support", "mark-rejected"]
    assert not outcome.approved and outcome.refund_id is None
    refund, order = await refund_row(sessions, request.data.order_id)
    assert (refund.status, refund.rejection_reason, refund.refund_id) == (
        "rejected",
        "rejected by support",
        None,
    )
    assert order.status == "fulfilled"
    [email] = await emails_to(sessions, customer.email)
    assert "was not approved: our support team reviewed it" in email.body


async def test_no_decision_within_48_hours_rejects_the_refund(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer, request = await refund_case(sessions, 15_000, "awaiting_approval")

    async with make_worker(skipping_env.client, sessions, task_queue):
        await router_for(skipping_env, sessions, task_queue).send([request])
        handle = run_of(skipping_env, request)
        # The router started the run, so its handle does not skip time by itself: skip it here.
        await eventually(lambda: support_message(sessions, f"process-refund/{request.id}"))
        await skipping_env.sleep(timedelta(hours=48, seconds=1))
        outcome = await handle.result()
        steps = await step_times(handle)

    assert [step for step, _ in steps] == ["notify-support", "mark-rejected"]
    waited = steps[1][1] - steps[0][1]
    assert timedelta(hours=48) <= waited < timedelta(hours=48, minutes=1)
    assert not outcome.approved
    refund, _ = await refund_row(sessions, request.data.order_id)
    assert (refund.status, refund.rejection_reason) == ("rejected", "no decision within 48 hours")
    [email] = await emails_to(sessions, customer.email)
    assert "we could not review it in time" in email.body


async def test_a_small_refund_the_provider_refuses_ends_failed_not_processing(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer, request = await refund_case(sessions, 4_000, "processing")

    @activity.defn(name="refund_payment")
    async def refused(refund: PaymentRefund) -> PaymentRefundReceipt:
        raise RefundRefused("Stripe refused the refund: the charge was disputed")

    async with make_worker(skipping_env.client, sessions, task_queue, fakes=[refused]):
        await router_for(skipping_env, sessions, task_queue).send([request])
        handle = run_of(skipping_env, request)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert steps == [
        "process-payment-refund",
        "mark-refund-failed",
        "notify-customer-refund-failed",
        "notify-team",
        "report-failure",
    ]
    refund, order = await refund_row(sessions, request.data.order_id)
    assert (refund.status, refund.failure_reason, refund.completed_at) == (
        "failed",
        "Stripe refused the refund: the charge was disputed",
        None,
    )
    assert order.status == "fulfilled"
    [email] = await emails_to(sessions, customer.email)
    assert "could not be completed" in email.subject
    alert = await support_message(sessions, f"process-refund/{request.id}/notify-team")
    assert alert is not None and "Refund failed" in alert.body and "$40.00" in alert.body
