"""`POST /api/billing/subscriptions`: offline (recorded locally, event sent here, the trial run
cancelled) and with Stripe (the real SDK against a recording server on 127.0.0.1)."""

from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from db.models import Subscription, User
from settings import Settings
from tests.api.accounts import as_user, create_user, event_run, recorded, running_trial, signup
from tests.api.conftest import Api
from tests.http_recorder import HttpRecorder, Recorded, Reply
from tests.support import eventually


async def subscriptions_of(api: Api, user_id: str) -> list[Subscription]:
    async with api.sessions() as session:
        return list(
            await session.scalars(select(Subscription).where(Subscription.user_id == user_id))
        )


async def test_a_session_of_an_account_that_is_gone_gets_401(api: Api) -> None:
    response = await api.http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, "user_nobody")
    )
    assert response.status_code == 401
    assert "no longer exists" in response.json()["detail"]


async def test_unknown_plan_gets_422(api: Api) -> None:
    user = await create_user(api)
    response = await api.http.post(
        "/api/billing/subscriptions", json={"plan": "free"}, headers=as_user(api, user.id)
    )
    assert response.status_code == 422
    assert await subscriptions_of(api, user.id) == []


async def test_offline_subscription_is_recorded_and_cancels_the_running_trial(api: Api) -> None:
    user_id = await signup(api, plan="pro")
    trial_event = await running_trial(api, user_id)

    response = await api.http.post(
        "/api/billing/subscriptions", json={"plan": "enterprise"}, headers=as_user(api, user_id)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["subscriptionId"].startswith("sub_local_")
    assert (body["status"], body["plan"], body["provider"]) == ("active", "enterprise", "local")
    billing_event = f"subscription-created-{body['subscriptionId']}"
    cancelled = await event_run(api, billing_event, "manage-trial-workflow")
    assert cancelled is not None and cancelled["action"] == "cancelled"

    async def trial_cancelled() -> dict[str, str] | None:
        run = await event_run(api, trial_event, "manage-trial-workflow")
        return run if run and run["status"] == "CANCELED" else None

    trial = await eventually(trial_cancelled)
    assert (
        trial["cancelledBy"] == f"cancelled by event billing/subscription.created {billing_event}"
    )
    [row] = await subscriptions_of(api, user_id)
    assert (row.plan, row.status, row.stripe_subscription_id) == ("enterprise", "active", None)
    async with api.sessions() as session:
        assert (await session.get(User, user_id)).plan == "enterprise"  # type: ignore[union-attr]


async def test_user_with_a_live_subscription_gets_409_and_nothing_is_sent(api: Api) -> None:
    user = await create_user(api)
    first = await api.http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, user.id)
    )
    assert first.status_code == 201

    second = await api.http.post(
        "/api/billing/subscriptions", json={"plan": "enterprise"}, headers=as_user(api, user.id)
    )

    assert second.status_code == 409
    assert first.json()["subscriptionId"] in second.json()["detail"]
    assert len(await subscriptions_of(api, user.id)) == 1
    assert not await recorded(api, f"subscription-created-sub_local_{user.id}_1")


def fake_stripe(request: Recorded) -> Reply:
    form = parse_qs(request.body.decode())
    if request.path == "/v1/customers":
        return Reply(body={"id": "cus_T1", "object": "customer", "email": form["email"][0]})
    if request.path == "/v1/subscriptions":
        return Reply(
            body={
                "id": "sub_T1",
                "object": "subscription",
                "customer": form["customer"][0],
                "status": "incomplete",
                "metadata": {"userId": form["metadata[userId]"][0]},
            }
        )
    return Reply(
        status=404, body={"error": {"message": "unknown path", "type": "invalid_request_error"}}
    )


@pytest.fixture
async def stripe_api(
    dev_env: WorkflowEnvironment, api: Api, api_settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, HttpRecorder]]:
    """The same app, configured with a Stripe key and pointed at a recording server."""
    recorder = HttpRecorder(fake_stripe)
    with recorder.serving():
        settings = api_settings.model_copy(
            update={"stripe_secret_key": "sk_test_key", "stripe_api_base": recorder.url}
        )

        async def connect() -> Client:
            return dev_env.client

        app = create_app(settings, connect=connect)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
        ):
            yield http, recorder


async def test_with_stripe_creates_customer_and_subscription_with_idempotency_keys(
    api: Api, stripe_api: tuple[httpx.AsyncClient, HttpRecorder]
) -> None:
    http, stripe = stripe_api
    user = await create_user(api)

    response = await http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, user.id)
    )

    assert response.status_code == 201, response.text
    assert response.json() == {
        "subscriptionId": "sub_T1",
        "userId": user.id,
        "plan": "pro",
        "status": "incomplete",
        "provider": "stripe",
    }
    customer, subscription = stripe.requests
    assert (customer.method, customer.path) == ("POST", "/v1/customers")
    assert customer.headers["authorization"] == "Bearer sk_test_key"
    assert customer.headers["idempotency-key"] == f"customer-{user.id}"
    assert parse_qs(customer.body.decode())["metadata[userId]"] == [user.id]
    assert subscription.path == "/v1/subscriptions"
    assert subscription.headers["idempotency-key"] == f"subscription-{user.id}-pro-0"
    form = parse_qs(subscription.body.decode())
    assert form["customer"] == ["cus_T1"]
    assert form["items[0][price]"] == ["price_pro"]
    assert (form["metadata[userId]"], form["metadata[plan]"]) == ([user.id], ["pro"])
    [row] = await subscriptions_of(api, user.id)
    assert (row.id, row.status, row.stripe_customer_id) == ("sub_T1", "incomplete", "cus_T1")
    # Stripe's webhook announces the subscription; the endpoint sends nothing itself.
    assert not await recorded(api, "subscription-created-sub_T1")

    again = await http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, user.id)
    )
    assert again.status_code == 409
    assert len(stripe.requests) == 2


async def test_stripe_refusal_gets_502_and_records_nothing(
    api: Api, stripe_api: tuple[httpx.AsyncClient, HttpRecorder]
) -> None:
    http, stripe = stripe_api
    stripe.replies = [
        Reply(body={"id": "cus_T2", "object": "customer"}),
        Reply(
            status=400,
            body={
                "error": {"message": "No such price: 'price_pro'", "type": "invalid_request_error"}
            },
        ),
    ]
    user = await create_user(api)

    response = await http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, user.id)
    )

    assert response.status_code == 502
    assert "No such price" in response.json()["detail"]
    assert await subscriptions_of(api, user.id) == []


async def test_with_stripe_a_subscription_paid_at_once_is_announced_at_once(
    api: Api, stripe_api: tuple[httpx.AsyncClient, HttpRecorder]
) -> None:
    """Stripe answered `active` (nothing to collect first): the endpoint sends
    `billing/subscription.created` itself, under the subscription's own id, so the webhook
    saying the same later stores nothing twice."""
    http, stripe = stripe_api
    user_id = await signup(api, plan="pro")
    trial_event = await running_trial(api, user_id)
    stripe.replies = [
        Reply(body={"id": "cus_T3", "object": "customer"}),
        Reply(
            body={
                "id": "sub_T3",
                "object": "subscription",
                "customer": "cus_T3",
                "status": "active",
                "metadata": {"userId": user_id, "plan": "pro"},
            }
        ),
    ]

    response = await http.post(
        "/api/billing/subscriptions", json={"plan": "pro"}, headers=as_user(api, user_id)
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    # Another process of the API took the request: what it routed is written within its
    # ROUTING_RECORD_SECONDS (half a second here; the default, 15 s, would time this out).
    cancelled = await eventually(
        lambda: event_run(api, "subscription-created-sub_T3", "manage-trial-workflow"), timeout=10
    )
    assert cancelled["action"] == "cancelled"

    async def trial_cancelled() -> dict[str, str] | None:
        run = await event_run(api, trial_event, "manage-trial-workflow")
        return run if run and run["status"] == "CANCELED" else None

    await eventually(trial_cancelled)
