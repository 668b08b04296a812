"""`POST /api/webhooks/stripe`: payloads signed the way Stripe signs them (HMAC-SHA256 of
"{t}.{payload}", header `t=...,v1=...`); verified, translated, deduplicated, or refused."""

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import Subscription, User
from inngest_temporal.store import StoredEvent
from tests.api.accounts import as_user, create_user, event_run, recorded, running_trial, signup
from tests.api.conftest import Api
from tests.support import eventually, unique


def signed(payload: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}


def stripe_event(kind: str, obj: dict[str, Any]) -> tuple[str, bytes]:
    event_id = unique("evt")
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
    return event_id, json.dumps(body).encode()


def subscription(user_id: str, status: str = "active", sub_id: str | None = None) -> dict[str, Any]:
    return {
        "id": sub_id or unique("sub"),
        "object": "subscription",
        "customer": f"cus_{user_id}",
        "status": status,
        "metadata": {"userId": user_id, "plan": "pro"},
        "items": {"data": [{"price": {"id": "price_pro"}}]},
    }


async def deliver(api: Api, payload: bytes, **signing: Any) -> httpx.Response:
    secret = signing.pop("secret", api.settings.stripe_webhook_secret)
    return await api.http.post(
        "/api/webhooks/stripe", content=payload, headers=signed(payload, secret, **signing)
    )


async def count_recorded(api: Api, event_id: str) -> int:
    async with api.sessions() as session:
        return int(
            await session.scalar(select(func.count()).where(StoredEvent.id == event_id)) or 0
        )


async def trial_run(api: Api, trial_event: str) -> dict[str, Any]:
    run = await event_run(api, trial_event, "manage-trial-workflow")
    assert run is not None
    return run


async def test_subscription_created_is_routed_once_even_if_delivered_twice(api: Api) -> None:
    user_id = await signup(api, plan="pro")
    trial_event = await running_trial(api, user_id)
    sub = subscription(user_id)
    _, payload = stripe_event("customer.subscription.created", sub)
    announced = f"subscription-created-{sub['id']}"

    first, second = await deliver(api, payload), await deliver(api, payload)

    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["name"] == "billing/subscription.created"
    assert first.json()["eventId"] == announced
    assert await count_recorded(api, announced) == 1
    cancel = await event_run(api, announced, "manage-trial-workflow")
    assert cancel is not None and cancel["action"] == "cancelled"

    async def trial_cancelled() -> dict[str, str] | None:
        run = await event_run(api, trial_event, "manage-trial-workflow")
        return run if run and run["status"] == "CANCELED" else None

    trial = await eventually(trial_cancelled)
    assert trial["cancelledBy"].endswith(announced)
    async with api.sessions() as session:
        row = (
            await session.scalars(select(Subscription).where(Subscription.user_id == user_id))
        ).one()
    assert (row.status, row.stripe_customer_id) == ("active", f"cus_{user_id}")


async def test_a_checkout_announces_the_subscription_once_it_is_paid_not_before(
    api: Api,
) -> None:
    """Stripe creates the subscription `incomplete` (the first invoice waits for payment): the
    trial runs on. When the payment lands (updated to `active`), `billing/subscription.created`
    is sent, and cancels the trial; later updates of the same subscription send nothing more."""
    user_id = await signup(api, plan="pro")
    trial_event = await running_trial(api, user_id)
    sub = subscription(user_id, status="incomplete")
    announced = f"subscription-created-{sub['id']}"

    _, created = stripe_event("customer.subscription.created", sub)
    started = await deliver(api, created)

    assert started.status_code == 200, started.text
    assert started.json()["ignored"] == (
        f"subscription {sub['id']} is incomplete: status synced, nothing to announce"
    )
    assert not await recorded(api, announced)
    assert (await trial_run(api, trial_event))["status"] == "RUNNING"
    async with api.sessions() as session:
        assert (await session.get(User, user_id)).plan == "pro"  # type: ignore[union-attr]

    _, paid = stripe_event("customer.subscription.updated", {**sub, "status": "active"})
    response = await deliver(api, paid)

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["eventId"]) == (
        "billing/subscription.created",
        announced,
    )

    async def trial_cancelled() -> dict[str, str] | None:
        run = await trial_run(api, trial_event)
        return run if run["status"] == "CANCELED" else None

    assert (await eventually(trial_cancelled))["cancelledBy"].endswith(announced)
    _, renewed = stripe_event("customer.subscription.updated", {**sub, "status": "active"})
    assert (await deliver(api, renewed)).json()["eventId"] == announced
    async with api.sessions() as session:
        sent = await session.scalar(
            select(func.count()).where(
                StoredEvent.name == "billing/subscription.created",
                StoredEvent.data["subscriptionId"].as_string() == sub["id"],
            )
        )
        row = await session.get(Subscription, sub["id"])
    assert sent == 1
    assert row is not None and (row.status, row.activated_at is not None) == ("active", True)


async def test_an_abandoned_checkout_leaves_the_running_trial_alone(api: Api) -> None:
    user_id = await signup(api, plan="pro")
    trial_event = await running_trial(api, user_id)
    sub = subscription(user_id, status="incomplete")
    _, created = stripe_event("customer.subscription.created", sub)
    assert (await deliver(api, created)).status_code == 200
    _, expired = stripe_event(
        "customer.subscription.updated", {**sub, "status": "incomplete_expired"}
    )

    response = await deliver(api, expired)

    assert response.status_code == 200, response.text
    assert "incomplete_expired" in response.json()["ignored"]
    async with api.sessions() as session:
        account = await session.get(User, user_id)
        row = await session.get(Subscription, sub["id"])
    # The trial keeps its plan and the rest of its days; a new checkout may start.
    assert account is not None and account.plan == "pro"
    assert row is not None and (row.status, row.activated_at) == ("incomplete_expired", None)
    assert (await trial_run(api, trial_event))["status"] == "RUNNING"
    assert not await recorded(api, f"subscription-created-{sub['id']}")
    retry = await api.http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, user_id)
    )
    assert retry.status_code == 201, retry.text


async def test_tampered_body_gets_400_and_nothing_is_recorded(api: Api) -> None:
    user = await create_user(api)
    evt_id, payload = stripe_event("customer.subscription.created", subscription(user.id))
    headers = signed(payload, api.settings.stripe_webhook_secret or "")
    tampered = payload.replace(b'"active"', b'"trialing"')

    response = await api.http.post("/api/webhooks/stripe", content=tampered, headers=headers)

    assert response.status_code == 400
    assert "Stripe-Signature" in response.json()["detail"]
    assert not await recorded(api, f"stripe-{evt_id}")
    async with api.sessions() as session:
        count = await session.scalar(select(func.count()).where(Subscription.user_id == user.id))
    assert count == 0


async def test_wrong_secret_stale_timestamp_or_no_signature_get_400(api: Api) -> None:
    user = await create_user(api)
    evt_id, payload = stripe_event("customer.subscription.created", subscription(user.id))

    wrong_secret = await deliver(api, payload, secret="whsec_someone_else")
    stale = await deliver(api, payload, timestamp=int(time.time()) - 600)
    unsigned = await api.http.post(
        "/api/webhooks/stripe", content=payload, headers={"content-type": "application/json"}
    )

    assert [r.status_code for r in (wrong_secret, stale, unsigned)] == [400, 400, 400]
    assert "tolerance" in stale.json()["detail"]
    assert not await recorded(api, f"stripe-{evt_id}")


async def test_subscription_deleted_ends_it_and_returns_the_user_to_free(api: Api) -> None:
    user = await create_user(api)
    sub = subscription(user.id)
    _, created = stripe_event("customer.subscription.created", sub)
    assert (await deliver(api, created)).status_code == 200
    evt_id, deleted = stripe_event("customer.subscription.deleted", {**sub, "status": "canceled"})

    response = await deliver(api, deleted)

    assert response.status_code == 200, response.text
    event = (await api.http.get(f"/api/events/stripe-{evt_id}")).json()
    assert event["name"] == "billing/subscription.deleted"
    assert event["data"] == {"userId": user.id, "subscriptionId": sub["id"], "plan": "pro"}
    async with api.sessions() as session:
        row = await session.get(Subscription, sub["id"])
        account = await session.get(User, user.id)
    assert row is not None and row.status == "canceled"
    assert account is not None and account.plan == "free"
    # A late update for the ended subscription does not bring it back.
    _, late = stripe_event("customer.subscription.updated", {**sub, "status": "active"})
    assert (await deliver(api, late)).status_code == 200
    async with api.sessions() as session:
        assert (await session.get(Subscription, sub["id"])).status == "canceled"  # type: ignore[union-attr]


async def test_payment_failed_is_sent_for_the_customer_we_know(api: Api) -> None:
    user = await create_user(api)
    sub = subscription(user.id, status="past_due")
    _, created = stripe_event("customer.subscription.created", sub)
    assert (await deliver(api, created)).status_code == 200
    invoice = {
        "id": "in_T1",
        "object": "invoice",
        "customer": sub["customer"],
        "amount_due": 2900,
        "currency": "usd",
        "attempt_count": 2,
        "parent": {"subscription_details": {"subscription": sub["id"], "metadata": {}}},
    }
    evt_id, payload = stripe_event("invoice.payment_failed", invoice)

    response = await deliver(api, payload)

    assert response.status_code == 200, response.text
    event = (await api.http.get(f"/api/events/stripe-{evt_id}")).json()
    assert event["name"] == "billing/payment.failed"
    assert event["data"] == {
        "userId": user.id,
        "invoiceId": "in_T1",
        "subscriptionId": sub["id"],
        "amountDue": 2900,
        "currency": "usd",
        "attemptCount": 2,
    }


async def test_unhandled_event_types_are_acknowledged_and_ignored(api: Api) -> None:
    evt_id, payload = stripe_event("charge.succeeded", {"id": "ch_1", "object": "charge"})

    response = await deliver(api, payload)

    assert response.status_code == 200
    assert "charge.succeeded" in response.json()["ignored"]
    assert not await recorded(api, f"stripe-{evt_id}")
