"""Refund requests in the database, the support team's approval request, the customer's emails,
and the team's alert when a refund fails. The money itself moves in activities/payments.py.

The process-refund run is the only writer of a refund's state after the request: the decision
it applied, the refund made, or why it failed."""

from typing import Any

from sqlalchemy import func, select, update
from temporalio import activity

from activities import commerce_emails
from activities.mail import EmailActivities, EmailReceipt
from activities.slack import SlackActivities, SlackMessage, SlackReceipt
from db.models import Order, Refund
from inngest_temporal import CamelModel, NonRetriableError, Sessions, local_activity, utcnow

# Refunds above $100.00 wait for a person (the seed's rule).
APPROVAL_THRESHOLD_CENTS = 10_000
# A refund in one of these has not ended: a failed run ends it `failed`.
OPEN_STATUSES = ("awaiting_approval", "processing", "approved")


def needs_approval(amount_cents: int) -> bool:
    return amount_cents > APPROVAL_THRESHOLD_CENTS


class SupportRequest(CamelModel):
    order_id: str
    amount_cents: int
    reason: str
    customer_email: str
    idempotency_key: str


class RefundRejection(CamelModel):
    order_id: str
    amount_cents: int
    customer_email: str
    timed_out: bool
    idempotency_key: str
    # The `refund/decision` applied (None when the 48 hours ran out), and who decided.
    decision_event_id: str | None = None
    decided_by: str | None = None


class RefundApproval(CamelModel):
    order_id: str
    decision_event_id: str
    decided_by: str


class RefundFailure(CamelModel):
    order_id: str
    reason: str


class RefundFailed(CamelModel):
    order_id: str
    # False when the refund had already ended otherwise (completed or rejected): nothing to tell
    # the customer, the team still hears of the failed run.
    marked: bool
    status: str


class RefundFailureNotice(CamelModel):
    order_id: str
    amount_cents: int
    customer_email: str
    idempotency_key: str


class RefundCompletion(CamelModel):
    order_id: str
    amount_cents: int
    refund_id: str
    provider: str


class RefundConfirmation(CamelModel):
    order_id: str
    amount_cents: int
    refund_id: str
    customer_email: str
    idempotency_key: str


class RefundActivities:
    def __init__(
        self,
        sessions: Sessions,
        email: EmailActivities,
        slack: SlackActivities,
        public_base_url: str,
    ) -> None:
        self._sessions = sessions
        self._email = email
        self._slack = slack
        self._base_url = public_base_url.rstrip("/")

    @activity.defn
    async def notify_refund_support(self, request: SupportRequest) -> SlackReceipt:
        decide = f"{self._base_url}/api/refunds/{request.order_id}"
        text = "\n".join(
            [
                f"*Refund approval needed*: {commerce_emails.money(request.amount_cents)} "
                f"for order {request.order_id} ({request.customer_email})",
                f"Reason: {request.reason}",
                f"Approve: POST {decide}/approve",
                f"Reject:  POST {decide}/reject",
                "(with the header `Authorization: Bearer $ADMIN_TOKEN`; "
                "no decision within 48 hours rejects it)",
            ]
        )
        return await self._slack.post_to_slack(
            SlackMessage(text=text, idempotency_key=request.idempotency_key)
        )

    @activity.defn
    async def mark_refund_rejected(self, rejection: RefundRejection) -> EmailReceipt:
        why = "no decision within 48 hours" if rejection.timed_out else "rejected by support"
        values: dict[str, Any] = {"status": "rejected", "rejection_reason": why}
        if rejection.decision_event_id is not None:
            values |= {
                "decision_event_id": rejection.decision_event_id,
                "decided_by": rejection.decided_by or "staff",
            }
        async with self._sessions() as session:
            await session.execute(
                update(Refund).where(Refund.order_id == rejection.order_id).values(values)
            )
            await session.commit()
        rendered = commerce_emails.refund_rejected(
            rejection.order_id, rejection.amount_cents, rejection.timed_out
        )
        return await self._email.send_email(
            rendered.message(rejection.customer_email, rejection.idempotency_key)
        )

    @local_activity
    @activity.defn
    async def record_approval(self, approval: RefundApproval) -> RefundApproval:
        """The run applied this approval: the decision endpoint answers from this row."""
        async with self._sessions() as session:
            await session.execute(
                update(Refund)
                .where(
                    Refund.order_id == approval.order_id,
                    Refund.status.in_(("awaiting_approval", "approved")),
                )
                .values(
                    status="approved",
                    decided_by=approval.decided_by,
                    decision_event_id=approval.decision_event_id,
                )
            )
            await session.commit()
        return approval

    @local_activity
    @activity.defn
    async def mark_refund_failed(self, failure: RefundFailure) -> RefundFailed:
        """A refund that could not be made ends `failed`, never left approved or processing. One
        that had ended otherwise (completed, rejected) keeps its state."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Refund)
                .where(Refund.order_id == failure.order_id, Refund.status.in_(OPEN_STATUSES))
                .values(status="failed", failure_reason=failure.reason[:2000])
            )
            status = await session.scalar(
                select(Refund.status).where(Refund.order_id == failure.order_id)
            )
        if status is None:
            raise NonRetriableError(f"no refund request for order {failure.order_id}")
        return RefundFailed(order_id=failure.order_id, marked=status == "failed", status=status)

    @activity.defn
    async def notify_refund_failed(self, notice: RefundFailureNotice) -> EmailReceipt:
        rendered = commerce_emails.refund_failed(notice.order_id, notice.amount_cents)
        return await self._email.send_email(
            rendered.message(notice.customer_email, notice.idempotency_key)
        )

    @local_activity
    @activity.defn
    async def complete_refund(self, completion: RefundCompletion) -> RefundCompletion:
        """The refund and its order, updated together."""
        async with self._sessions() as session, session.begin():
            order = await session.get(Order, completion.order_id)
            if order is None:
                raise NonRetriableError(f"order {completion.order_id} does not exist")
            await session.execute(
                update(Refund)
                .where(Refund.order_id == completion.order_id)
                .values(
                    status="completed",
                    refund_id=completion.refund_id,
                    provider=completion.provider,
                    completed_at=func.coalesce(Refund.completed_at, utcnow()),
                )
            )
            full = completion.amount_cents >= order.total_cents
            order.status = "refunded" if full else "partially_refunded"
        return completion

    @activity.defn
    async def notify_refund_customer(self, confirmation: RefundConfirmation) -> EmailReceipt:
        rendered = commerce_emails.refund_confirmed(
            confirmation.order_id, confirmation.amount_cents, confirmation.refund_id
        )
        return await self._email.send_email(
            rendered.message(confirmation.customer_email, confirmation.idempotency_key)
        )
