"""A refund the payment provider refuses, through the real API (Stripe's SDK against a recording
server that refuses it, the run on a time-skipping server): it ends `failed`, never left approved
or processing, the customer and the team are told, and `GET /api/refunds/{orderId}` shows it."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from db.models import OutboxMessage
from inngest_temporal import Sessions
from settings import Settings
from tests.api.accounts import event_run
from tests.api.conftest import Api, serving
from tests.api.shop.conftest import STAFF
from tests.api.shop.runs import step_ids
from tests.api.shop.test_refund_decisions import asked_support, refund_in
from tests.api.shop.test_refunds import request_refund
from tests.http_recorder import HttpRecorder, Recorded, Reply
from tests.shop import add_order, add_product, add_user, emails_to
from tests.support import eventually

ALREADY_REFUNDED = "Charge ch_1 has already been refunded."


def refusing_stripe(request: Recorded) -> Reply:
    if request.path == "/v1/refunds":
        return Reply(
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "charge_already_refunded",
                    "message": ALREADY_REFUNDED,
                }
            },
        )
    return Reply(404, {"error": {"type": "invalid_request_error", "message": "unknown path"}})


@pytest.fixture
def stripe() -> Iterator[HttpRecorder]:
    recorder = HttpRecorder(refusing_stripe)
    with recorder.serving():
        yield recorder


async def failed_run(api: Api, event_id: str) -> dict[str, Any] | None:
    run = await event_run(api, event_id, "process-refund")
    return run if run and run["status"] == "FAILED" else None


async def test_an_approved_refund_the_provider_refuses_ends_failed_and_everyone_is_told(
    skipping_env: WorkflowEnvironment,
    sessions: Sessions,
    api_settings: Settings,
    stripe: HttpRecorder,
) -> None:
    settings = api_settings.model_copy(
        update={"stripe_secret_key": "sk_test_key", "stripe_api_base": stripe.url}
    )
    async with serving(skipping_env.client, sessions, settings) as api:
        customer = await add_user(api.sessions)
        product_id = await add_product(api.sessions, 5, price_cents=25_000)
        order = await add_order(
            api.sessions,
            customer.id,
            [(product_id, 1, 25_000)],
            "fulfilled",
            payment_intent_id="pi_3Refunded",
        )
        order_id = order.data.order_id
        assert (await request_refund(api, order_id, 25_000)).status_code == 202
        await eventually(lambda: asked_support(api, order_id))

        approve = await api.http.post(f"/api/refunds/{order_id}/approve", headers=STAFF)
        refund = await eventually(lambda: refund_in(api, order_id, "failed"))
        run = await eventually(lambda: failed_run(api, f"refund-requested-{order_id}"))
        steps = await step_ids(api, run["workflowId"])
        async with api.sessions() as session:
            alert = await session.scalar(
                select(OutboxMessage.body).where(
                    OutboxMessage.channel == "slack",
                    OutboxMessage.body.contains("Refund failed"),
                    OutboxMessage.body.contains(order_id),
                )
            )
        order_view = (await api.http.get(f"/api/orders/{order_id}", headers=STAFF)).json()

    # The run applied the approval, then the provider refused the money back.
    assert approve.status_code == 200, approve.text
    assert approve.json()["status"] in ("approved", "failed")
    assert refund["failureReason"] == ALREADY_REFUNDED
    assert (refund["refundId"], refund["decisionId"]) == (None, approve.json()["decisionId"])
    assert [r.path for r in stripe.requests] == ["/v1/refunds"]
    assert steps == [
        "notify-support",
        "record-approval",
        "process-payment-refund",
        "mark-refund-failed",
        "notify-customer-refund-failed",
        "notify-team",
        "report-failure",
    ]
    [email] = await emails_to(sessions, customer.email)
    assert email.subject == f"Your refund for order {order_id} could not be completed"
    assert alert is not None and ALREADY_REFUNDED in alert and customer.email in alert
    assert order_view["status"] == "fulfilled"
