"""process-refund: refunds over $100.00 wait up to 48 hours for a person to approve them (seed 003,
"waitForEvent: Human-in-the-Loop"); approved or small refunds go back through Stripe.

The run's id is `process-refund-{orderId}`: the approve and reject endpoints send
`refund/decision` (each decision an event of its own), which the router delivers straight to it
(matched on `data.orderId`). The run, not the endpoint, writes what it did to the refund: the
decision it applied (`record-approval`, `mark-rejected`, with the decision's event id), so the
endpoints answer what happened, even when a decision raced the 48-hour timeout.

A refund that cannot be made (the provider refuses it, or a step fails after its retries) ends
`failed` in the failure handler: `mark-refund-failed`, the customer told
(`notify-customer-refund-failed`) and the team too (`notify-team`, on Slack)."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.commerce_emails import money
    from activities.payments import PaymentActivities, PaymentRefund
    from activities.refunds import (
        RefundActivities,
        RefundApproval,
        RefundCompletion,
        RefundConfirmation,
        RefundFailure,
        RefundFailureNotice,
        RefundRejection,
        SupportRequest,
        needs_approval,
    )
    from activities.slack import SlackActivities, SlackMessage
    from events.orders import RefundDecision, RefundRequested
    from inngest_temporal import CamelModel, FunctionFailed, Match, Pipeline, function

APPROVAL_WINDOW = timedelta(hours=48)
# Runs started before these changes replay as they ran (workflow.patched).
RECORDS_DECISION = "refund-run-records-decision"
FAILS_REFUND = "refund-failure-handler"


class RefundOutcome(CamelModel):
    approved: bool
    refund_id: str | None = None
    amount_cents: int


@function(
    id="process-refund",
    trigger=RefundRequested,
    retries=3,
    wait_for=[Match(RefundDecision, "data.orderId")],
)
class ProcessRefundWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: RefundRequested) -> RefundOutcome:
        data, user = event.data, event.user
        if needs_approval(data.amount_cents):
            await self.step.run(
                "notify-support",
                RefundActivities.notify_refund_support,
                SupportRequest(
                    order_id=data.order_id,
                    amount_cents=data.amount_cents,
                    reason=data.reason,
                    customer_email=user.email,
                    idempotency_key=self.step.key("notify-support"),
                ),
            )
            decision = await self.step.wait_for_event(
                "wait-for-approval", RefundDecision, timeout=APPROVAL_WINDOW
            )
            if decision is None or decision.data.action != "approved":
                await self.step.run(
                    "mark-rejected",
                    RefundActivities.mark_refund_rejected,
                    RefundRejection(
                        order_id=data.order_id,
                        amount_cents=data.amount_cents,
                        customer_email=user.email,
                        timed_out=decision is None,
                        idempotency_key=self.step.key("mark-rejected"),
                        decision_event_id=decision.id if decision else None,
                        decided_by=decision.data.decided_by if decision else None,
                    ),
                )
                return RefundOutcome(approved=False, amount_cents=data.amount_cents)
            if workflow.patched(RECORDS_DECISION):
                await self.step.run(
                    "record-approval",
                    RefundActivities.record_approval,
                    RefundApproval(
                        order_id=data.order_id,
                        decision_event_id=decision.id,
                        decided_by=decision.data.decided_by or "staff",
                    ),
                )

        refund = await self.step.run(
            "process-payment-refund",
            PaymentActivities.refund_payment,
            # One refund per order (the refunds table's key), so the order id is its business id.
            PaymentRefund(
                order_id=data.order_id,
                amount_cents=data.amount_cents,
                idempotency_key=f"refund-{data.order_id}",
            ),
        )
        await self.step.run(
            "update-records",
            RefundActivities.complete_refund,
            RefundCompletion(
                order_id=data.order_id,
                amount_cents=data.amount_cents,
                refund_id=refund.refund_id,
                provider=refund.provider,
            ),
        )
        await self.step.run(
            "notify-customer",
            RefundActivities.notify_refund_customer,
            RefundConfirmation(
                order_id=data.order_id,
                amount_cents=data.amount_cents,
                refund_id=refund.refund_id,
                customer_email=user.email,
                idempotency_key=self.step.key("notify-customer"),
            ),
        )
        return RefundOutcome(
            approved=True, refund_id=refund.refund_id, amount_cents=data.amount_cents
        )

    async def on_failure(self, failure: FunctionFailed) -> None:
        """The refund could not be made: it ends `failed` (unless it had already ended
        otherwise), and the customer and the team are told."""
        if not workflow.patched(FAILS_REFUND):
            return
        request = RefundRequested.model_validate(failure.data.event)
        data, error = request.data, failure.data.error
        outcome = await self.step.run(
            "mark-refund-failed",
            RefundActivities.mark_refund_failed,
            RefundFailure(order_id=data.order_id, reason=error.message),
        )
        if outcome.marked:
            await self.step.run(
                "notify-customer-refund-failed",
                RefundActivities.notify_refund_failed,
                RefundFailureNotice(
                    order_id=data.order_id,
                    amount_cents=data.amount_cents,
                    customer_email=request.user.email,
                    idempotency_key=self.step.key("notify-customer-refund-failed"),
                ),
            )
        await self.step.run(
            "notify-team",
            SlackActivities.post_to_slack,
            SlackMessage(
                text="\n".join(
                    [
                        f"*Refund failed* for order {data.order_id} "
                        f"({money(data.amount_cents)}, {request.user.email}): "
                        f"now {outcome.status}",
                        f"{error.name}: {error.message}",
                        f"Run: {workflow.info().workflow_id} ({failure.data.run_id})",
                    ]
                ),
                idempotency_key=self.step.key("notify-team"),
            ),
        )
