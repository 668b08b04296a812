"""Money back to the customer: refunds through Stripe when STRIPE_SECRET_KEY is set, otherwise
recorded locally (a `re_local_...` id), so `make dev` works offline.

Stripe receives an idempotency key derived from the order, so a retried step, or the SDK's own
network retries, never refund twice."""

import hashlib
import logging
from typing import Literal

import stripe
from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.models import Order
from inngest_temporal import CamelModel, NonRetriableError, Sessions

log = logging.getLogger("pipelines.payments")

# Errors Stripe will answer the same way however often we ask.
REFUSALS = (
    stripe.InvalidRequestError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.CardError,
    stripe.IdempotencyError,
)


class RefundRefused(NonRetriableError):
    """The payment provider refused the refund and will refuse it again: the refund fails."""

    def __init__(self, message: str) -> None:
        ApplicationError.__init__(self, message, type="RefundRefused", non_retryable=True)


class PaymentRefund(CamelModel):
    order_id: str
    amount_cents: int
    idempotency_key: str


class PaymentRefundReceipt(CamelModel):
    refund_id: str
    provider: Literal["stripe", "local"]
    status: str


class PaymentActivities:
    def __init__(
        self,
        sessions: Sessions,
        stripe_client: stripe.StripeClient | None,
        local_refunds: bool = True,
    ) -> None:
        """`local_refunds`: without Stripe, record refunds locally (development); in production
        a refund never reports success without a payment provider having made it."""
        self._sessions = sessions
        self._stripe = stripe_client
        self._local_refunds = local_refunds

    @activity.defn
    async def refund_payment(self, refund: PaymentRefund) -> PaymentRefundReceipt:
        if self._stripe is None:
            if not self._local_refunds:
                raise NonRetriableError(
                    "no payment provider is configured (STRIPE_SECRET_KEY): nothing was refunded"
                )
            digest = hashlib.sha256(refund.idempotency_key.encode()).hexdigest()[:24]
            log.info(
                "refund of %d cents for %s recorded locally", refund.amount_cents, refund.order_id
            )
            return PaymentRefundReceipt(
                refund_id=f"re_local_{digest}", provider="local", status="succeeded"
            )
        async with self._sessions() as session:
            payment_intent = await session.scalar(
                select(Order.payment_intent_id).where(Order.id == refund.order_id)
            )
        if not payment_intent:
            raise NonRetriableError(f"order {refund.order_id} has no Stripe payment to refund")
        try:
            created = await self._stripe.v1.refunds.create_async(
                {
                    "payment_intent": payment_intent,
                    "amount": refund.amount_cents,
                    "metadata": {"order_id": refund.order_id},
                },
                {"idempotency_key": refund.idempotency_key},
            )
        except REFUSALS as err:
            raise RefundRefused(f"Stripe refused the refund: {err.user_message or err}") from err
        return PaymentRefundReceipt(
            refund_id=created.id, provider="stripe", status=created.status or "pending"
        )
