"""Refunds through the API on the dev server: requests and their limits, staff decisions (admin
token), and the process-refund runs they drive."""

from typing import Any

from sqlalchemy import func, select

from db.models import Order, OutboxMessage, Refund, User
from inngest_temporal.store import StoredEvent
from tests.api.accounts import as_user
from tests.api.conftest import Api
from tests.api.shop.conftest import STAFF
from tests.api.shop.runs import finished_run
from tests.shop import add_order, add_product, add_user, emails_to


async def order_of(api: Api, status: str = "fulfilled") -> tuple[User, str]:
    """A customer and their $250.00 order."""
    customer = await add_user(api.sessions)
    product_id = await add_product(api.sessions, 5, price_cents=25_000)
    order = await add_order(api.sessions, customer.id, [(product_id, 1, 25_000)], status)
    return customer, order.data.order_id


async def request_refund(api: Api, order_id: str, amount_cents: int) -> Any:
    """As the order's customer (an unknown order: as some other customer)."""
    async with api.sessions() as session:
        owner = await session.scalar(select(Order.customer_id).where(Order.id == order_id))
    return await api.http.post(
        "/api/refunds",
        json={"orderId": order_id, "amountCents": amount_cents, "reason": "Arrived broken"},
        headers=as_user(api, owner or (await add_user(api.sessions)).id),
    )


async def refund_status(api: Api, order_id: str) -> str:
    status: str = (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()["status"]
    return status


async def test_refunds_beyond_the_order_or_before_fulfilment_are_refused(api: Api) -> None:
    _, order_id = await order_of(api)
    _, pending_id = await order_of(api, status="pending")

    over = await request_refund(api, order_id, 25_001)
    assert over.status_code == 422
    assert over.json()["detail"] == (
        "a refund of 25001 cents is more than the order total of 25000 cents"
    )
    unknown = await request_refund(api, "ord_missing", 100)
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "no order 'ord_missing'")
    early = await request_refund(api, pending_id, 100)
    assert (
        early.status_code == 409 and "only a fulfilled or shipped order" in early.json()["detail"]
    )
    zero = await request_refund(api, order_id, 0)
    assert zero.status_code == 422

    async with api.sessions() as session:
        stored = await session.scalar(
            select(func.count()).where(Refund.order_id.in_([order_id, pending_id]))
        )
        sent = await session.scalar(
            select(func.count()).where(
                StoredEvent.name == "refund/requested",
                StoredEvent.data["orderId"].as_string() == order_id,
            )
        )
    assert (stored, sent) == (0, 0)


async def test_a_small_refund_is_paid_without_approval(api: Api) -> None:
    customer, order_id = await order_of(api)

    response = await request_refund(api, order_id, 4_000)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "processing"
    run = await finished_run(api, f"refund-requested-{order_id}", "process-refund")
    assert run["status"] == "COMPLETED"
    refund = (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()
    assert refund["status"] == "completed" and refund["refundId"].startswith("re_local_")
    order = (await api.http.get(f"/api/orders/{order_id}", headers=STAFF)).json()
    assert order["status"] == "partially_refunded"
    assert [e.subject for e in await emails_to(api.sessions, customer.email)] == [
        "Your refund of $40.00 is on its way"
    ]
    again = await request_refund(api, order_id, 1_000)
    assert again.status_code == 409
    assert again.json()["detail"] == f"order {order_id} already has a refund request (completed)"


async def test_staff_approve_a_large_refund_with_the_admin_token(api: Api) -> None:
    customer, order_id = await order_of(api)
    assert (await request_refund(api, order_id, 25_000)).json()["status"] == "awaiting_approval"
    approve = f"/api/refunds/{order_id}/approve"

    missing = await api.http.post(approve)
    wrong = await api.http.post(approve, headers={"Authorization": "Bearer guess"})
    by_customer = await api.http.post(approve, headers=as_user(api, customer.id))
    assert (missing.status_code, wrong.status_code, by_customer.status_code) == (401, 401, 403)
    assert await refund_status(api, order_id) == "awaiting_approval"

    approved = await api.http.post(approve, headers=STAFF, json={"decidedBy": "Lin"})

    assert approved.status_code == 200, approved.text
    answer = approved.json()
    assert (answer["orderId"], answer["decision"]) == (order_id, "approved")
    # What the run made of it by the time it answered: approved, and perhaps paid out already.
    assert answer["status"] in ("approved", "completed")
    assert answer["decisionId"].startswith(f"refund-decision-{order_id}-")
    run = await finished_run(api, f"refund-requested-{order_id}", "process-refund")
    assert run["status"] == "COMPLETED"
    refund = (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()
    assert (refund["status"], refund["decidedBy"]) == ("completed", "Lin")
    assert (await api.http.get(f"/api/orders/{order_id}", headers=STAFF)).json()[
        "status"
    ] == "refunded"
    async with api.sessions() as session:
        support = await session.scalar(
            select(OutboxMessage.body).where(
                OutboxMessage.channel == "slack", OutboxMessage.body.contains(order_id)
            )
        )
    assert support is not None and f"/api/refunds/{order_id}/approve" in support
    assert [e.subject for e in await emails_to(api.sessions, customer.email)] == [
        "Your refund of $250.00 is on its way"
    ]

    twice = await api.http.post(approve, headers=STAFF)
    assert twice.status_code == 409
    assert twice.json()["detail"] == (
        f"the refund for order {order_id} is completed, not awaiting a decision"
    )


async def test_staff_reject_a_large_refund(api: Api) -> None:
    customer, order_id = await order_of(api)
    await request_refund(api, order_id, 20_000)

    rejected = await api.http.post(f"/api/refunds/{order_id}/reject", headers=STAFF)

    assert rejected.status_code == 200, rejected.text
    run = await finished_run(api, f"refund-requested-{order_id}", "process-refund")
    assert run["status"] == "COMPLETED"
    refund = (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()
    assert (refund["status"], refund["rejectionReason"], refund["refundId"]) == (
        "rejected",
        "rejected by support",
        None,
    )
    [email] = await emails_to(api.sessions, customer.email)
    assert "was not approved" in email.body
    late = await api.http.post(f"/api/refunds/{order_id}/approve", headers=STAFF)
    assert late.status_code == 409


async def test_a_refund_that_is_not_waiting_cannot_be_decided(api: Api) -> None:
    _, order_id = await order_of(api)
    await request_refund(api, order_id, 500)  # small: no decision needed

    response = await api.http.post(f"/api/refunds/{order_id}/approve", headers=STAFF)

    assert response.status_code == 409
    assert "not awaiting a decision" in response.json()["detail"]
    missing = await api.http.post("/api/refunds/ord_missing/reject", headers=STAFF)
    assert missing.status_code == 404
