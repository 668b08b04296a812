"""process-refund: refunds over $100.00 wait up to 48 hours for a person to approve them (seed 003,
"waitForEvent: Human-in-the-Loop"); approved or small refunds go back through Stripe.

The run's id is `process-refund-{orderId}`: the approve and reject endpoints send
`refund/decision`, which the router delivers straight to it (matched on `data.orderId`)."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payments import PaymentActivities, PaymentRefund
    from activities.refunds import (
        RefundActivities,
        RefundCompletion,
        RefundConfirmation,
        RefundRejection,
        SupportRequest,
        needs_approval,
    )
    from events.orders import RefundDecision, RefundRequested
    from inngest_temporal import CamelModel, Match, Pipeline, function

APPROVAL_WINDOW = timedelta(hours=48)


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
                    ),
                )
                return RefundOutcome(approved=False, amount_cents=data.amount_cents)

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
