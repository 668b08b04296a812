"""Refunds: a customer's request (`POST /api/refunds`) sends `refund/requested`; staff approve or
reject a large one (`POST /api/refunds/{orderId}/approve|reject`), which sends `refund/decision`
to the process-refund run waiting for it.

One refund request per order: a rejected request is final (the customer talks to support)."""

from typing import Any, Literal, cast

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from temporalio.service import RPCError

from activities.refunds import needs_approval
from api.deps import RouterDep, SessionsDep, SettingsDep
from api.errors import conflict, not_found, unavailable, unprocessable
from api.staff import STAFF_ONLY
from db.engine import Sessions
from db.models import EventRecord, Order, Refund, User
from events.envelope import CamelModel
from events.orders import (
    RefundDecision,
    RefundDecisionData,
    RefundRequested,
    RefundRequestedData,
    RefundUser,
)
from events.router import Router

router = APIRouter(prefix="/api/refunds", tags=["refunds"])

REFUNDABLE = ("fulfilled", "shipped")


class RefundRequest(CamelModel):
    order_id: str = Field(min_length=1, max_length=64)
    amount_cents: int = Field(gt=0)
    reason: str = Field(min_length=1, max_length=1000)


class DecisionRequest(CamelModel):
    decided_by: str | None = Field(default=None, max_length=200)


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def request_refund(
    body: RefundRequest, sessions: SessionsDep, events: RouterDep, settings: SettingsDep
) -> dict[str, Any]:
    async with sessions() as session:
        found = (
            await session.execute(
                select(Order, User)
                .join(User, User.id == Order.customer_id)
                .where(Order.id == body.order_id)
            )
        ).one_or_none()
        if found is None:
            raise unprocessable(f"unknown order '{body.order_id}'")
        order, customer = found.tuple()
        if body.amount_cents > order.total_cents:
            raise unprocessable(
                f"a refund of {body.amount_cents} cents is more than the order total of "
                f"{order.total_cents} cents"
            )
        existing = await session.get(Refund, order.id)
        if existing is not None:
            raise conflict(f"order {order.id} already has a refund request ({existing.status})")
        if order.status not in REFUNDABLE:
            raise conflict(
                f"order {order.id} is {order.status}: only a fulfilled or shipped order can be "
                "refunded"
            )
        if settings.stripe_secret_key and not order.payment_intent_id:
            raise unprocessable(f"order {order.id} was not paid through Stripe: nothing to refund")
        refund_status = "awaiting_approval" if needs_approval(body.amount_cents) else "processing"
        session.add(
            Refund(
                order_id=order.id,
                amount_cents=body.amount_cents,
                reason=body.reason,
                status=refund_status,
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            raise conflict(f"order {order.id} already has a refund request") from None
    requested = RefundRequested(
        id=f"refund-requested-{order.id}",
        data=RefundRequestedData(
            order_id=order.id, amount_cents=body.amount_cents, reason=body.reason
        ),
        user=RefundUser(id=customer.id, email=customer.email),
    )
    try:
        await events.send([requested])
    except RPCError as err:
        async with sessions() as session:
            await session.execute(delete(Refund).where(Refund.order_id == order.id))
            await session.commit()
        raise unavailable(f"Temporal is unavailable, please retry: {err.message}") from err
    return {"orderId": order.id, "amountCents": body.amount_cents, "status": refund_status}


@router.get("/{order_id}")
async def get_refund(order_id: str, sessions: SessionsDep) -> dict[str, Any]:
    async with sessions() as session:
        refund = await session.get(Refund, order_id)
    if refund is None:
        raise not_found(f"no refund request for order '{order_id}'")
    return {
        "orderId": refund.order_id,
        "amountCents": refund.amount_cents,
        "reason": refund.reason,
        "status": refund.status,
        "decidedBy": refund.decided_by,
        "rejectionReason": refund.rejection_reason,
        "provider": refund.provider,
        "refundId": refund.refund_id,
    }


@router.post("/{order_id}/approve", dependencies=[STAFF_ONLY])
async def approve_refund(
    order_id: str, sessions: SessionsDep, events: RouterDep, body: DecisionRequest | None = None
) -> dict[str, Any]:
    return await _decide(sessions, events, order_id, "approved", body or DecisionRequest())


@router.post("/{order_id}/reject", dependencies=[STAFF_ONLY])
async def reject_refund(
    order_id: str, sessions: SessionsDep, events: RouterDep, body: DecisionRequest | None = None
) -> dict[str, Any]:
    return await _decide(sessions, events, order_id, "rejected", body or DecisionRequest())


async def _decide(
    sessions: Sessions,
    events: Router,
    order_id: str,
    action: Literal["approved", "rejected"],
    body: DecisionRequest,
) -> dict[str, Any]:
    """Takes the refund out of `awaiting_approval` first (so two decisions cannot both win), then
    delivers the decision; puts it back if the decision reached no waiting run."""
    async with sessions() as session:
        refund = await session.get(Refund, order_id)
        if refund is None:
            raise not_found(f"no refund request for order '{order_id}'")
        taken = await session.execute(
            update(Refund)
            .where(Refund.order_id == order_id, Refund.status == "awaiting_approval")
            .values(status=action, decided_by=body.decided_by or "staff")
        )
        if cast(CursorResult[Any], taken).rowcount != 1:
            raise conflict(
                f"the refund for order {order_id} is {refund.status}, not awaiting a decision"
            )
        await session.commit()
    decision = RefundDecision(
        id=f"refund-decision-{order_id}",
        data=RefundDecisionData(order_id=order_id, action=action, decided_by=body.decided_by),
    )
    try:
        await events.send([decision])
        delivered = await _reached_a_run(sessions, decision.id)
    except RPCError as err:
        await _undo(sessions, order_id, action)
        raise unavailable(f"Temporal is unavailable, please retry: {err.message}") from err
    if not delivered:
        await _undo(sessions, order_id, action)
        raise conflict(f"no process-refund run is waiting for order {order_id}")
    return {"orderId": order_id, "decision": action, "status": action}


async def _reached_a_run(sessions: Sessions, event_id: str) -> bool:
    async with sessions() as session:
        runs = await session.scalar(select(EventRecord.runs).where(EventRecord.id == event_id))
    return any(run["action"] == "signalled" for run in runs or [])


async def _undo(sessions: Sessions, order_id: str, action: str) -> None:
    async with sessions() as session:
        await session.execute(
            update(Refund)
            .where(Refund.order_id == order_id, Refund.status == action)
            .values(status="awaiting_approval", decided_by=None)
        )
        await session.commit()
