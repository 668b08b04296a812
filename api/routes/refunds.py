"""Refunds: a customer's request (`POST /api/refunds`) stores the refund and its
`refund/requested` together; staff approve or reject a large one
(`POST /api/refunds/{orderId}/approve|reject`), which sends `refund/decision` (a fresh event
each time) to the process-refund run waiting for it and answers what the run did: 200 when it
applied this decision, 409 with the refund's actual state when it did something else, 202 when
it has not answered within REFUND_DECISION_WAIT_SECONDS.

One refund request per order: a rejected request is final (the customer talks to support)."""

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from activities.refunds import needs_approval
from api.deps import ServicesDep, SessionsDep
from api.errors import ERROR_RESPONSES, Conflict, NotFound, Unprocessable
from api.params import OrderIdPath
from api.security import STAFF_ONLY, CurrentUser, Viewer
from api.services import Services
from db.models import Order, Refund, User
from events.orders import (
    RefundDecision,
    RefundDecisionData,
    RefundRequested,
    RefundRequestedData,
    RefundUser,
)
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/refunds", tags=["refunds"], responses=ERROR_RESPONSES)

REFUNDABLE = ("fulfilled", "shipped")
DECISION_POLL_SECONDS = 0.1


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
    failure_reason: str | None
    provider: str | None
    refund_id: str | None
    # The `refund/decision` event the process-refund run applied, if any.
    decision_id: str | None

    @classmethod
    def of(cls, refund: Refund) -> "RefundView":
        return cls(
            order_id=refund.order_id,
            amount_cents=refund.amount_cents,
            reason=refund.reason,
            status=refund.status,
            decided_by=refund.decided_by,
            rejection_reason=refund.rejection_reason,
            failure_reason=refund.failure_reason,
            provider=refund.provider,
            refund_id=refund.refund_id,
            decision_id=refund.decision_event_id,
        )


class DecisionRequest(CamelModel):
    decided_by: str | None = Field(default=None, max_length=200)


class DecisionResponse(CamelModel):
    order_id: str
    decision: Literal["approved", "rejected"]
    decision_id: str
    # 200: the refund's state once the run applied this decision (approved, then processing on
    # to completed or failed; or rejected). 202: still awaiting_approval, the run has not
    # applied it yet (GET the refund to follow it).
    status: str


class DecisionConflict(CamelModel):
    detail: str
    refund: RefundView


DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": DecisionResponse, "description": "stored; the run has not applied it yet"},
    409: {
        "model": DecisionConflict,
        "description": "the refund was not awaiting a decision, or the run did something else "
        "(the 48 hours ran out, another decision came first): its actual state",
    },
}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RefundAccepted)
async def request_refund(
    body: RefundRequest, services: ServicesDep, customer: CurrentUser
) -> RefundAccepted:
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
            if found is None or found.tuple()[0].customer_id != customer.id:
                # Another customer's order is not found, as an unknown one.
                raise NotFound(f"no order '{body.order_id}'")
            order, owner = found.tuple()
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
                    user=RefundUser(id=owner.id, email=owner.email),
                )
            )
    except IntegrityError:
        raise Conflict(f"order {body.order_id} already has a refund request") from None
    return RefundAccepted(
        order_id=body.order_id, amount_cents=body.amount_cents, status=refund_status
    )


@router.get("/{order_id}", response_model=RefundView)
async def get_refund(order_id: OrderIdPath, sessions: SessionsDep, who: Viewer) -> RefundView:
    async with sessions() as session:
        refund = await session.get(Refund, order_id)
        owner = await session.scalar(select(Order.customer_id).where(Order.id == order_id))
    if refund is None or owner is None or not who.may_see(owner):
        raise NotFound(f"no refund request for order '{order_id}'")
    return RefundView.of(refund)


@router.post(
    "/{order_id}/approve",
    dependencies=[STAFF_ONLY],
    response_model=DecisionResponse,
    responses=DECISION_RESPONSES,
)
async def approve_refund(
    order_id: OrderIdPath,
    services: ServicesDep,
    response: Response,
    body: DecisionRequest | None = None,
) -> DecisionResponse:
    return await _decide(services, response, order_id, "approved", body or DecisionRequest())


@router.post(
    "/{order_id}/reject",
    dependencies=[STAFF_ONLY],
    response_model=DecisionResponse,
    responses=DECISION_RESPONSES,
)
async def reject_refund(
    order_id: OrderIdPath,
    services: ServicesDep,
    response: Response,
    body: DecisionRequest | None = None,
) -> DecisionResponse:
    return await _decide(services, response, order_id, "rejected", body or DecisionRequest())


async def _decide(
    services: Services,
    response: Response,
    order_id: str,
    action: Literal["approved", "rejected"],
    body: DecisionRequest,
) -> DecisionResponse:
    """Sends the decision (an event of its own) to the run waiting for it, then answers what the
    run did with it. The endpoint never writes the outcome: the run does, naming the decision
    it applied, so a decision that raced the 48-hour timeout or another decision is answered
    409 with what actually happened, never "approved" for a refund the run rejected."""
    decision = RefundDecision(
        id=f"refund-decision-{order_id}-{ULID()}",
        data=RefundDecisionData(order_id=order_id, action=action, decided_by=body.decided_by),
    )
    async with services.change() as change:
        refund = await change.session.get(Refund, order_id)
        if refund is None:
            raise NotFound(f"no refund request for order '{order_id}'")
        if refund.status != "awaiting_approval":
            raise _conflict(refund, f"is {refund.status}, not awaiting a decision")
        await change.emit(decision)
    refund = await _applied(services, order_id, services.settings.refund_decision_wait_seconds)
    answer = DecisionResponse(
        order_id=order_id, decision=action, decision_id=decision.id, status=refund.status
    )
    if refund.status == "awaiting_approval":
        response.status_code = status.HTTP_202_ACCEPTED
        return answer
    if refund.decision_event_id != decision.id:
        raise _conflict(refund, f"was {_how(refund)} before this decision was applied")
    return answer


async def _applied(services: Services, order_id: str, wait_seconds: float) -> Refund:
    """The refund once its run has taken it out of awaiting_approval, or as it is after
    `wait_seconds` (bounded: the answer is then 202)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        async with services.sessions() as session:
            refund = await session.get(Refund, order_id)
        assert refund is not None  # refunds are never deleted
        if refund.status != "awaiting_approval" or loop.time() >= deadline:
            return refund
        await asyncio.sleep(DECISION_POLL_SECONDS)


def _how(refund: Refund) -> str:
    if refund.status == "rejected" and refund.rejection_reason:
        return f"rejected ({refund.rejection_reason})"
    return refund.status


def _conflict(refund: Refund, what: str) -> Conflict:
    return Conflict(
        f"the refund for order {refund.order_id} {what}",
        refund=RefundView.of(refund).model_dump(mode="json"),
    )
