"""Who may do what, tried from the outside against the production app: every endpoint that
changes or reveals a customer's things, without credentials, with a wrong token, with another
customer's session, and with the right one (the table the README shows)."""

from dataclasses import dataclass
from typing import Any

import pytest

from api.security import issue_access_token
from tests.api.conftest import STAFF
from tests.api.trust.conftest import EVENT_KEY, STOREFRONT_KEY, Production
from tests.shop import add_order, add_product, add_user

ANYONE: dict[str, str] = {}
WRONG = {"Authorization": "Bearer not-a-token-we-issued"}


@dataclass
class Shop:
    owner: dict[str, str]
    other: dict[str, str]
    order_id: str
    refundable_id: str


@pytest.fixture
async def shop(production: Production) -> Shop:
    sessions = production.api.sessions
    owner, other = await add_user(sessions), await add_user(sessions)
    product = await add_product(sessions, 10, price_cents=25_000)
    order = await add_order(sessions, owner.id, [(product, 1, 25_000)], "pending")
    refundable = await add_order(sessions, owner.id, [(product, 1, 25_000)], "fulfilled")

    def session_of(user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_access_token(production.settings, user_id)}"}

    return Shop(
        session_of(owner.id), session_of(other.id), order.data.order_id, refundable.data.order_id
    )


async def answer(
    production: Production, method: str, path: str, headers: dict[str, str], body: Any = None
) -> int:
    response = await production.http.request(method, path, headers=headers, json=body)
    return response.status_code


async def test_customer_endpoints_refuse_strangers_and_other_customers(
    production: Production, shop: Shop
) -> None:
    refund = {"orderId": shop.refundable_id, "amountCents": 100, "reason": "Broken"}
    order = {"items": [{"productId": "sku_none", "quantity": 1, "priceCents": 1}]}
    table = {
        ("POST", "/api/billing/subscriptions", "plan pro"): {"plan": "pro"},
        ("POST", "/api/orders", "an order"): order,
        ("GET", f"/api/orders/{shop.order_id}", "someone's order"): None,
        ("POST", "/api/refunds", "a refund of someone's order"): refund,
        ("GET", f"/api/refunds/{shop.refundable_id}", "someone's refund"): None,
        ("GET", "/api/auth/me", "who am I"): None,
    }
    seen = {}
    for (method, path, what), body in table.items():
        seen[what] = (
            await answer(production, method, path, ANYONE, body),
            await answer(production, method, path, WRONG, body),
            await answer(production, method, path, shop.other, body),
        )
    assert seen == {
        "plan pro": (401, 401, 201),  # the other customer subscribes themselves, never the owner
        "an order": (401, 401, 422),  # placed for the other customer (here: an unknown product)
        "someone's order": (401, 401, 404),
        "a refund of someone's order": (401, 401, 404),
        "someone's refund": (401, 401, 404),
        "who am I": (401, 401, 200),
    }
    owner_reads = await production.http.get(f"/api/orders/{shop.order_id}", headers=shop.owner)
    assert owner_reads.status_code == 200


async def test_staff_endpoints_refuse_customers(production: Production, shop: Shop) -> None:
    ship = f"/api/orders/{shop.refundable_id}/ship"
    approve = f"/api/refunds/{shop.refundable_id}/approve"
    reject = f"/api/refunds/{shop.refundable_id}/reject"
    tracking = {"trackingNumber": "1Z"}
    for method, path, body in (
        ("POST", ship, tracking),
        ("POST", approve, None),
        ("POST", reject, None),
    ):
        assert (
            await answer(production, method, path, ANYONE, body),
            await answer(production, method, path, WRONG, body),
            await answer(production, method, path, shop.owner, body),
        ) == (401, 401, 403), path
    assert await answer(production, "POST", ship, STAFF, tracking) == 202
    # Staff reach the refund checks (no refund was requested for this order).
    assert await answer(production, "POST", approve, STAFF) == 404


async def test_the_event_log_needs_a_key_or_staff(production: Production, shop: Shop) -> None:
    sent = await production.http.post(
        "/api/events",
        headers={"Authorization": f"Bearer {EVENT_KEY}"},
        json={
            "name": "user/signed-up",
            "data": {"userId": "u1", "email": "a@example.com", "name": "A"},
        },
    )
    assert sent.status_code in (200, 202), sent.text
    path = f"/api/events/{sent.json()['ids'][0]}"
    assert (
        await answer(production, "GET", path, ANYONE),
        await answer(production, "GET", path, WRONG),
        await answer(production, "GET", path, shop.owner),
        await answer(production, "GET", path, {"Authorization": f"Bearer {STOREFRONT_KEY}"}),
        await answer(production, "GET", path, STAFF),
    ) == (401, 401, 403, 200, 200)


async def test_a_scoped_key_sends_only_the_names_it_lists(production: Production) -> None:
    storefront = {"Authorization": f"Bearer {STOREFRONT_KEY}"}
    decision = {"name": "refund/decision", "data": {"orderId": "ord_1", "action": "approved"}}
    refused = await production.http.post("/api/events", headers=storefront, json=decision)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this event key may not send 'refund/decision'"
    by_path = await production.http.post(f"/e/{STOREFRONT_KEY}", json=decision)
    assert by_path.status_code == 403
    allowed = await production.http.post(
        "/api/events",
        headers=storefront,
        json={
            "name": "user/signed-up",
            "data": {"userId": "u2", "email": "b@example.com", "name": "B"},
        },
    )
    assert allowed.status_code in (200, 202)


async def test_keys_that_are_not_ours_are_401_whatever_their_bytes(production: Production) -> None:
    event = {
        "name": "user/signed-up",
        "data": {"userId": "u3", "email": "c@example.com", "name": "C"},
    }
    for key in ("nope", "clé-non-ascii-é"):
        assert (await production.http.post(f"/e/{key}", json=event)).status_code == 401, key
    # Longer than any key can be: refused by the declared bound, before any comparison.
    assert (await production.http.post(f"/e/{'x' * 700}", json=event)).status_code == 422
    non_ascii = await production.http.post(
        "/api/events",
        json=event,
        headers={b"Authorization": "Bearer clé".encode()},
    )
    assert non_ascii.status_code == 401
    customer_token = {"Authorization": f"Bearer {issue_access_token(production.settings, 'u3')}"}
    assert (
        await production.http.post("/api/events", json=event, headers=customer_token)
    ).status_code == 401


async def test_development_helpers_do_not_exist_in_production(production: Production) -> None:
    for headers in (ANYONE, STAFF):
        assert (await production.http.get("/api/dev/outbox", headers=headers)).status_code == 404
