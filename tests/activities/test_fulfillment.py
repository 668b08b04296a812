"""The fulfilment adapter: the built-in local provider (timed, heartbeating) and an HTTP provider
on a recording server on 127.0.0.1."""

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

import activities.fulfillment
from activities.fulfillment import FulfillmentActivities, FulfillmentRefused, FulfillmentRequest
from db.models import Fulfillment
from inngest_temporal import NonRetriableError, Sessions
from tests.http_recorder import HttpRecorder, Reply
from tests.shop import add_order, add_product, add_user


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def provider() -> Iterator[HttpRecorder]:
    answer = {"id": "wh_123", "estimatedDelivery": "2026-12-01T10:00:00Z"}
    recorder = HttpRecorder(lambda _: Reply(201, answer))
    with recorder.serving():
        yield recorder


async def request(sessions: Sessions) -> FulfillmentRequest:
    customer = await add_user(sessions)
    event = await add_order(sessions, customer.id, [(await add_product(sessions, 5), 2, 2_500)])
    data = event.data
    return FulfillmentRequest(
        order_id=data.order_id, customer_id=data.customer_id, items=data.items
    )


async def recorded(sessions: Sessions, order_id: str) -> list[Fulfillment]:
    async with sessions() as session:
        return list(
            await session.scalars(select(Fulfillment).where(Fulfillment.order_id == order_id))
        )


async def test_local_provider_takes_its_time_heartbeating_and_runs_once(
    sessions: Sessions, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 25 heartbeats' worth of waiting, of which 5 are asked for: the wait is what is left of the
    # 0.5 s after the submission is recorded, which a loaded machine can make a few tenths.
    monkeypatch.setattr(activities.fulfillment, "HEARTBEAT_EVERY", timedelta(seconds=0.02))
    local = FulfillmentActivities(sessions, http, url=None, local_seconds=0.5)
    order = await request(sessions)
    env = ActivityEnvironment()
    heartbeats: list[Any] = []
    env.on_heartbeat = lambda *details: heartbeats.append(details)

    began = time.monotonic()
    receipt = await env.run(local.submit_fulfillment, order)
    took = time.monotonic() - began
    began = time.monotonic()
    again = await env.run(local.submit_fulfillment, order)
    took_again = time.monotonic() - began

    assert receipt == again
    assert (receipt.fulfillment_id, receipt.provider) == (f"ful_{order.order_id}", "local")
    assert receipt.estimated_delivery is not None
    assert receipt.estimated_delivery - datetime.now(UTC) > timedelta(days=2, hours=23)
    assert took >= 0.5 and took_again < 0.2
    assert len(heartbeats) >= 5
    [row] = await recorded(sessions, order.order_id)
    assert row.status == "accepted"


async def test_http_provider_gets_the_order_once_with_an_idempotency_key(
    sessions: Sessions, http: httpx.AsyncClient, provider: HttpRecorder
) -> None:
    remote = FulfillmentActivities(
        sessions, http, url=f"{provider.url}/fulfillments", local_seconds=0
    )
    order = await request(sessions)

    receipt = await ActivityEnvironment().run(remote.submit_fulfillment, order)
    again = await ActivityEnvironment().run(remote.submit_fulfillment, order)

    [sent] = provider.requests
    assert (sent.method, sent.path) == ("POST", "/fulfillments")
    assert sent.headers["idempotency-key"] == f"fulfillment-{order.order_id}"
    assert sent.json() == {
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "items": [{"productId": order.items[0].product_id, "quantity": 2}],
    }
    assert receipt == again
    assert (receipt.fulfillment_id, receipt.provider) == ("wh_123", "http")
    assert receipt.estimated_delivery == datetime(2026, 12, 1, 10, tzinfo=UTC)


async def test_http_provider_refusal_is_final_and_its_outage_is_retried(
    sessions: Sessions, http: httpx.AsyncClient, provider: HttpRecorder
) -> None:
    remote = FulfillmentActivities(sessions, http, url=provider.url, local_seconds=0)
    order = await request(sessions)
    provider.replies = [Reply(422, {"error": "address incomplete"}), Reply(503, {})]

    with pytest.raises(NonRetriableError, match=r"refused .* \(422\).*address incomplete"):
        await ActivityEnvironment().run(remote.submit_fulfillment, order)
    with pytest.raises(httpx.HTTPStatusError):
        await ActivityEnvironment().run(remote.submit_fulfillment, order)
    assert await recorded(sessions, order.order_id) == []


async def test_http_provider_id_longer_than_the_fulfillments_table_takes_is_refused(
    sessions: Sessions, http: httpx.AsyncClient, provider: HttpRecorder
) -> None:
    remote = FulfillmentActivities(sessions, http, url=provider.url, local_seconds=0)
    order = await request(sessions)
    provider.replies = [Reply(201, {"id": "f" * 201})]

    with pytest.raises(NonRetriableError, match=r"(?s)unexpected answer.*at most 200 characters"):
        await ActivityEnvironment().run(remote.submit_fulfillment, order)
    assert await recorded(sessions, order.order_id) == []


async def test_only_a_definite_refusal_is_final(
    sessions: Sessions, http: httpx.AsyncClient, provider: HttpRecorder
) -> None:
    """A 4xx that says "no" is a refusal (the order may release its stock); a 409 (the same
    Idempotency-Key still in progress), a 408 or a 5xx may mean the provider has the order:
    retried, under the same key."""
    remote = FulfillmentActivities(sessions, http, url=provider.url, local_seconds=0)
    order = await request(sessions)
    provider.replies = [Reply(409, {}), Reply(408, {}), Reply(502, {}), Reply(400, {})]

    for _ in range(3):
        with pytest.raises(httpx.HTTPStatusError):
            await ActivityEnvironment().run(remote.submit_fulfillment, order)
    with pytest.raises(FulfillmentRefused, match=r"\(400\)"):
        await ActivityEnvironment().run(remote.submit_fulfillment, order)
    assert {r.headers["idempotency-key"] for r in provider.requests} == {
        f"fulfillment-{order.order_id}"
    }
