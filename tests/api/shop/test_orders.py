"""Orders through the API on the dev server: validation, the whole process-order pipeline, the
fan-out to loyalty points, and shipping (staff only)."""

from typing import Any

from sqlalchemy import func, select

from db.models import LoyaltyEntry, Order
from inngest_temporal.store import StoredEvent
from tests.api.accounts import as_user
from tests.api.conftest import Api
from tests.api.shop.conftest import STAFF
from tests.api.shop.runs import finished_run, step_ids
from tests.shop import add_order, add_product, add_user, emails_to


def order_body(*items: tuple[str, int, int]) -> dict[str, Any]:
    return {"items": [{"productId": p, "quantity": q, "priceCents": c} for p, q, c in items]}


async def test_products_lists_the_catalogue_with_what_is_left_to_sell(api: Api) -> None:
    product_id = await add_product(api.sessions, 7, price_cents=1_999)

    response = await api.http.get("/api/products")

    assert response.status_code == 200
    [listed] = [p for p in response.json() if p["id"] == product_id]
    assert listed == {
        "id": product_id,
        "name": "Signed print",
        "priceCents": 1_999,
        "stock": 7,
        "reserved": 0,
        "available": 7,
    }


async def test_an_order_is_stored_fulfilled_confirmed_and_earns_points(api: Api) -> None:
    customer = await add_user(api.sessions)
    tee, mug = await add_product(api.sessions, 10, 2_500), await add_product(api.sessions, 4, 1_500)

    response = await api.http.post(
        "/api/orders",
        headers=as_user(api, customer.id),
        json=order_body((tee, 2, 2_500), (mug, 1, 1_500)),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["totalCents"]) == ("pending", 6_500)
    order_id = body["orderId"]
    run = await finished_run(api, f"order-created-{order_id}", "process-order")
    assert run["status"] == "COMPLETED"
    assert await step_ids(api, run["workflowId"]) == [
        "check-inventory",
        "reserve-inventory",
        "update-order-processing",
        "submit-fulfillment",
        "update-order-fulfilled",
        "send-confirmation",
        "send-order-fulfilled",
    ]
    order = (await api.http.get(f"/api/orders/{order_id}", headers=STAFF)).json()
    assert order["status"] == "fulfilled" and order["fulfillmentId"] == f"ful_{order_id}"
    assert order["items"] == [
        {"productId": tee, "quantity": 2, "priceCents": 2_500},
        {"productId": mug, "quantity": 1, "priceCents": 1_500},
    ]
    stock = {p["id"]: p["stock"] for p in (await api.http.get("/api/products")).json()}
    assert (stock[tee], stock[mug]) == (8, 3)
    [confirmation] = await emails_to(api.sessions, customer.email)
    assert "$65.00" in confirmation.body

    async with api.sessions() as session:
        fulfilled_id = await session.scalar(
            select(StoredEvent.id).where(
                StoredEvent.name == "order/fulfilled",
                StoredEvent.data["orderId"].as_string() == order_id,
            )
        )
    assert fulfilled_id is not None
    loyalty = await finished_run(api, fulfilled_id, "update-loyalty-points")
    assert loyalty["status"] == "COMPLETED"
    async with api.sessions() as session:
        points = await session.scalar(
            select(LoyaltyEntry.points).where(LoyaltyEntry.order_id == order_id)
        )
    assert points == 65


async def test_bad_orders_are_refused_naming_the_problem_and_nothing_is_stored(api: Api) -> None:
    customer = await add_user(api.sessions)
    product_id = await add_product(api.sessions, 5, 2_500)

    async def refused(body: dict[str, Any]) -> Any:
        response = await api.http.post("/api/orders", json=body, headers=as_user(api, customer.id))
        assert response.status_code == 422, response.text
        return response.json()["detail"]

    assert await refused(order_body(("sku_nope", 1, 100))) == ("unknown product 'sku_nope'")
    for quantity in (0, -3):
        detail = await refused(order_body((product_id, quantity, 2_500)))
        assert [e["loc"] for e in detail] == [["body", "items", 0, "quantity"]]
    assert await refused(order_body((product_id, 1, 99))) == (
        f"price of '{product_id}' is 2500 cents, not 99"
    )
    assert await refused(order_body((product_id, 1, 2_500), (product_id, 2, 2_500))) == (
        f"product '{product_id}' is listed twice: use one item per product"
    )
    detail = await refused(order_body())
    assert [e["loc"] for e in detail] == [["body", "items"]]

    async with api.sessions() as session:
        orders = await session.scalar(select(func.count()).where(Order.customer_id == customer.id))
        events = await session.scalar(
            select(func.count()).where(StoredEvent.data["customerId"].as_string() == customer.id)
        )
    assert (orders, events) == (0, 0)


async def test_an_order_beyond_the_stock_fails_and_says_why(api: Api) -> None:
    customer = await add_user(api.sessions)
    product_id = await add_product(api.sessions, 2, 2_500)

    response = await api.http.post(
        "/api/orders", headers=as_user(api, customer.id), json=order_body((product_id, 3, 2_500))
    )

    assert response.status_code == 201
    order_id = response.json()["orderId"]
    run = await finished_run(api, f"order-created-{order_id}", "process-order")
    assert run["status"] == "FAILED"
    order = (await api.http.get(f"/api/orders/{order_id}", headers=STAFF)).json()
    assert (order["status"], order["failureReason"]) == (
        "failed",
        f"Product {product_id} out of stock",
    )


async def test_shipping_is_for_staff_and_tells_the_customer(api: Api) -> None:
    customer = await add_user(api.sessions, name="Grace")
    product_id = await add_product(api.sessions, 5)
    fulfilled = await add_order(api.sessions, customer.id, [(product_id, 1, 2_500)], "fulfilled")
    pending = await add_order(api.sessions, customer.id, [(product_id, 1, 2_500)])
    order_id = fulfilled.data.order_id
    tracking = {"trackingNumber": "1Z999AA10123456784"}

    def ship(order: str, headers: dict[str, str] | None = None) -> Any:
        return api.http.post(f"/api/orders/{order}/ship", json=tracking, headers=headers or {})

    assert (await ship(order_id)).status_code == 401
    assert (await ship(order_id, {"Authorization": "Bearer guess"})).status_code == 401
    assert (await ship(order_id, as_user(api, customer.id))).status_code == 403
    too_early = await ship(pending.data.order_id, STAFF)
    assert too_early.status_code == 409
    assert "only a fulfilled order can ship" in too_early.json()["detail"]
    assert (await ship("ord_missing", STAFF)).status_code == 404

    response = await ship(order_id, STAFF)

    assert response.status_code == 202, response.text
    async with api.sessions() as session:
        shipped_id = await session.scalar(
            select(StoredEvent.id).where(
                StoredEvent.name == "order/shipped",
                StoredEvent.data["orderId"].as_string() == order_id,
            )
        )
    assert shipped_id is not None
    run = await finished_run(api, shipped_id, "handle-order-shipped")
    assert run["status"] == "COMPLETED"
    order = (await api.http.get(f"/api/orders/{order_id}", headers=STAFF)).json()
    assert (order["status"], order["trackingNumber"]) == ("shipped", "1Z999AA10123456784")
    [email] = await emails_to(api.sessions, customer.email)
    assert "1Z999AA10123456784" in email.body
