"""Refunds: a customer's request (`POST /api/refunds`) stores the refund and its
`refund/requested` together; staff approve or reject a large one
(`POST /api/refunds/{orderId}/approve|reject`), which sends `refund/decision` to the
process-refund run waiting for it.

One refund request per order: a rejected request is final (the customer talks to support)."""

from typing import Any, Literal, cast

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from activities.refunds import needs_approval
from api.deps import ServicesDep, SessionsDep
from api.errors import Conflict, NotFound, Unprocessable
from api.params import OrderIdPath
from api.services import Services
from api.staff import STAFF_ONLY
from db.models import Order, Refund, User
from events.orders import (
    RefundDecision,
    RefundDecisionData,
    RefundRequested,
    RefundRequestedData,
    RefundUser,
)
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/refunds", tags=["refunds"])

REFUNDABLE = ("fulfilled", "shipped")


class RefundRequest(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    amount_cents: int = Field(gt=0, le=2**31 - 1)
    reason: str = Field(min_length=1, max_length=1000)


class RefundAccepted(CamelModel):
    order_id: str
    amount_cents: int
    status: str


class RefundView(CamelModel):
    order_id: str
    amount_cents: int
    reason: str
    status: str
    decided_by: str | None
    rejection_reason: str | None
    provider: str | None
    refund_id: str | None


class DecisionRequest(CamelModel):
    decided_by: str | None = Field(default=None, max_length=200)


class DecisionResponse(CamelModel):
    order_id: str
    decision: Literal["approved", "rejected"]
    status: str


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RefundAccepted)
async def request_refund(body: RefundRequest, services: ServicesDep) -> RefundAccepted:
    refund_status = "awaiting_approval" if needs_approval(body.amount_cents) else "processing"
    try:
        async with services.change() as change:
            session = change.session
            found = (
                await session.execute(
                    select(Order, User)
                    .join(User, User.id == Order.customer_id)
                    .where(Order.id == body.order_id)
                )
            ).one_or_none()
            if found is None:
                raise Unprocessable(f"unknown order '{body.order_id}'")
            order, customer = found.tuple()
            if body.amount_cents > order.total_cents:
                raise Unprocessable(
                    f"a refund of {body.amount_cents} cents is more than the order total of "
                    f"{order.total_cents} cents"
                )
            existing = await session.get(Refund, order.id)
            if existing is not None:
                raise Conflict(f"order {order.id} already has a refund request ({existing.status})")
            if order.status not in REFUNDABLE:
                raise Conflict(
                    f"order {order.id} is {order.status}: only a fulfilled or shipped order can "
                    "be refunded"
                )
            if services.settings.stripe_secret_key and not order.payment_intent_id:
                raise Unprocessable(
                    f"order {order.id} was not paid through Stripe: nothing to refund"
                )
            session.add(
                Refund(
                    order_id=order.id,
                    amount_cents=body.amount_cents,
                    reason=body.reason,
                    status=refund_status,
                )
            )
            await session.flush()
            await change.emit(
                RefundRequested(
                    id=f"refund-requested-{order.id}",
                    data=RefundRequestedData(
                        order_id=order.id, amount_cents=body.amount_cents, reason=body.reason
                    ),
                    user=RefundUser(id=customer.id, email=customer.email),
                )
            )
    except IntegrityError:
        raise Conflict(f"order {body.order_id} already has a refund request") from None
    return RefundAccepted(
        order_id=body.order_id, amount_cents=body.amount_cents, status=refund_status
    )


@router.get("/{order_id}", response_model=RefundView)
async def get_refund(order_id: OrderIdPath, sessions: SessionsDep) -> RefundView:
    async with sessions() as session:
        refund = await session.get(Refund, order_id)
    if refund is None:
        raise NotFound(f"no refund request for order '{order_id}'")
    return RefundView(
        order_id=refund.order_id,
        amount_cents=refund.amount_cents,
        reason=refund.reason,
        status=refund.status,
        decided_by=refund.decided_by,
        rejection_reason=refund.rejection_reason,
        provider=refund.provider,
        refund_id=refund.refund_id,
    )


@router.post("/{order_id}/approve", dependencies=[STAFF_ONLY], response_model=DecisionResponse)
async def approve_refund(
    order_id: OrderIdPath, services: ServicesDep, body: DecisionRequest | None = None
) -> DecisionResponse:
    return await _decide(services, order_id, "approved", body or DecisionRequest())


@router.post("/{order_id}/reject", dependencies=[STAFF_ONLY], response_model=DecisionResponse)
async def reject_refund(
    order_id: OrderIdPath, services: ServicesDep, body: DecisionRequest | None = None
) -> DecisionResponse:
    return await _decide(services, order_id, "rejected", body or DecisionRequest())


async def _decide(
    services: Services,
    order_id: str,
    action: Literal["approved", "rejected"],
    body: DecisionRequest,
) -> DecisionResponse:
    """Takes the refund out of `awaiting_approval` (so two decisions cannot both win) and stores
    the decision for the waiting run, together."""
    async with services.change() as change:
        refund = await change.session.get(Refund, order_id)
        if refund is None:
            raise NotFound(f"no refund request for order '{order_id}'")
        taken = await change.session.execute(
            update(Refund)
            .where(Refund.order_id == order_id, Refund.status == "awaiting_approval")
            .values(status=action, decided_by=body.decided_by or "staff")
        )
        if cast(CursorResult[Any], taken).rowcount != 1:
            raise Conflict(
                f"the refund for order {order_id} is {refund.status}, not awaiting a decision"
            )
        await change.emit(
            RefundDecision(
                id=f"refund-decision-{order_id}-{ULID()}",
                data=RefundDecisionData(
                    order_id=order_id, action=action, decided_by=body.decided_by
                ),
            )
        )
    return DecisionResponse(order_id=order_id, decision=action, status=action)
