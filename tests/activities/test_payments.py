"""Refunds through the real Stripe SDK, pointed at a recording server on 127.0.0.1, and recorded
locally when no Stripe key is configured."""

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from activities.payments import PaymentActivities, PaymentRefund
from infra.stripe_client import make_stripe_client
from inngest_temporal import NonRetriableError, Sessions
from tests.http_recorder import HttpRecorder, Reply
from tests.shop import add_order, add_product, add_user, shop_settings


@pytest.fixture
def stripe_api() -> Iterator[HttpRecorder]:
    refund = {"id": "re_3Abc", "object": "refund", "amount": 4_000, "status": "succeeded"}
    recorder = HttpRecorder(lambda _: Reply(200, refund))
    with recorder.serving():
        yield recorder


def payments(sessions: Sessions, stripe_api: HttpRecorder) -> PaymentActivities:
    settings = shop_settings(stripe_secret_key="sk_test_123", stripe_api_base=stripe_api.url)
    return PaymentActivities(sessions, make_stripe_client(settings))


async def paid_order(sessions: Sessions, payment_intent_id: str | None) -> str:
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 5, price_cents=12_000)
    order = await add_order(
        sessions,
        customer.id,
        [(product_id, 1, 12_000)],
        status="fulfilled",
        payment_intent_id=payment_intent_id,
    )
    return order.data.order_id


async def test_refunds_the_payment_intent_with_an_idempotency_key(
    sessions: Sessions, stripe_api: HttpRecorder
) -> None:
    order_id = await paid_order(sessions, "pi_3Paid")

    receipt = await payments(sessions, stripe_api).refund_payment(
        PaymentRefund(order_id=order_id, amount_cents=4_000, idempotency_key=f"refund-{order_id}")
    )

    [request] = stripe_api.requests
    assert (request.method, request.path) == ("POST", "/v1/refunds")
    assert request.headers["authorization"] == "Bearer sk_test_123"
    assert request.headers["idempotency-key"] == f"refund-{order_id}"
    assert parse_qs(request.body.decode()) == {
        "payment_intent": ["pi_3Paid"],
        "amount": ["4000"],
        "metadata[order_id]": [order_id],
    }
    assert (receipt.refund_id, receipt.provider, receipt.status) == (
        "re_3Abc",
        "stripe",
        "succeeded",
    )


async def test_a_refund_stripe_refuses_is_not_retried(
    sessions: Sessions, stripe_api: HttpRecorder
) -> None:
    order_id = await paid_order(sessions, "pi_3Refunded")
    stripe_api.replies = [
        Reply(
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "charge_already_refunded",
                    "message": "Charge ch_1 has already been refunded.",
                }
            },
        )
    ]

    with pytest.raises(NonRetriableError, match="has already been refunded"):
        await payments(sessions, stripe_api).refund_payment(
            PaymentRefund(order_id=order_id, amount_cents=100, idempotency_key=f"refund-{order_id}")
        )
    assert len(stripe_api.requests) == 1


async def test_an_order_without_a_stripe_payment_is_refused_before_calling_stripe(
    sessions: Sessions, stripe_api: HttpRecorder
) -> None:
    order_id = await paid_order(sessions, None)

    with pytest.raises(NonRetriableError, match=f"order {order_id} has no Stripe payment"):
        await payments(sessions, stripe_api).refund_payment(
            PaymentRefund(order_id=order_id, amount_cents=100, idempotency_key=f"refund-{order_id}")
        )
    assert stripe_api.requests == []


async def test_without_a_stripe_key_the_refund_gets_a_stable_local_id(sessions: Sessions) -> None:
    order_id = await paid_order(sessions, None)
    local = PaymentActivities(sessions, make_stripe_client(shop_settings()))
    request = PaymentRefund(
        order_id=order_id, amount_cents=100, idempotency_key=f"refund-{order_id}"
    )

    first, again = await local.refund_payment(request), await local.refund_payment(request)

    assert first == again  # the same id for the same refund, however often the step runs
    assert first.provider == "local" and first.refund_id.startswith("re_local_")
