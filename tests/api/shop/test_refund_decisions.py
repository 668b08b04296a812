"""Staff decisions answer what the process-refund run did, through the real API on a time-skipping
server (the 48-hour window in moments): a decision racing the timeout, two decisions racing each
other (each its own event), and a decision after the end."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.mail import EmailActivities, EmailReceipt
from activities.refunds import RefundActivities, RefundRejection, SupportRequest
from activities.slack import SlackActivities, SlackReceipt
from db.models import OutboxMessage
from inngest_temporal import Sessions
from inngest_temporal.store import StoredEvent
from settings import Settings
from tests.api.conftest import Api, serving
from tests.api.shop.conftest import STAFF
from tests.api.shop.test_refunds import order_of, request_refund
from tests.support import eventually


class Hold:
    """Lets a step start, then holds it until released."""

    def __init__(self) -> None:
        self.reached, self.released = asyncio.Event(), asyncio.Event()

    async def __call__(self) -> None:
        self.reached.set()
        await self.released.wait()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def real_refunds(sessions: Sessions, http: httpx.AsyncClient) -> RefundActivities:
    email = EmailActivities(sessions, None, "", "shop@example.com")
    return RefundActivities(sessions, email, SlackActivities(sessions, None, http), "http://t")


async def decisions_of(api: Api, order_id: str) -> list[str]:
    async with api.sessions() as session:
        ids = await session.scalars(
            select(StoredEvent.id)
            .where(
                StoredEvent.name == "refund/decision",
                StoredEvent.data["orderId"].as_string() == order_id,
            )
            .order_by(StoredEvent.received_at)
        )
        return list(ids)


async def asked_support(api: Api, order_id: str) -> bool:
    """Whether the run asked support (it then waits for a decision)."""
    async with api.sessions() as session:
        found = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.channel == "slack", OutboxMessage.body.contains(order_id)
            )
        )
    return found is not None


async def refund_in(api: Api, order_id: str, status: str) -> dict[str, Any] | None:
    refund: dict[str, Any] = (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()
    return refund if refund["status"] == status else None


async def test_an_approval_racing_the_48_hour_timeout_answers_409_with_the_rejection(
    skipping_env: WorkflowEnvironment,
    sessions: Sessions,
    api_settings: Settings,
    http: httpx.AsyncClient,
) -> None:
    """The 48 hours ran out and the run is rejecting the refund (the row still says
    awaiting_approval) when staff approve: the answer is the run's rejection, never approved."""
    hold, real = Hold(), real_refunds(sessions, http)

    @activity.defn(name="mark_refund_rejected")
    async def slow_rejection(rejection: RefundRejection) -> EmailReceipt:
        await hold()
        return await real.mark_refund_rejected(rejection)

    async with serving(skipping_env.client, sessions, api_settings, [slow_rejection]) as api:
        _, order_id = await order_of(api)
        assert (await request_refund(api, order_id, 25_000)).status_code == 202
        await eventually(lambda: asked_support(api, order_id))
        await skipping_env.sleep(timedelta(hours=48, seconds=1))
        await asyncio.wait_for(hold.reached.wait(), 30)
        assert (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()["status"] == (
            "awaiting_approval"
        )

        approving = asyncio.create_task(
            api.http.post(f"/api/refunds/{order_id}/approve", headers=STAFF)
        )
        await eventually(lambda: decisions_of(api, order_id))
        hold.released.set()
        approve = await approving
        late = await api.http.post(f"/api/refunds/{order_id}/approve", headers=STAFF)
        refund = (await api.http.get(f"/api/refunds/{order_id}", headers=STAFF)).json()

    assert approve.status_code == 409, approve.text
    body = approve.json()
    assert body["detail"] == (
        f"the refund for order {order_id} was rejected (no decision within 48 hours) before "
        "this decision was applied"
    )
    assert (body["refund"]["status"], body["refund"]["decisionId"]) == ("rejected", None)
    assert (refund["status"], refund["rejectionReason"]) == (
        "rejected",
        "no decision within 48 hours",
    )
    # After the end: 409 with the same state, and nothing more is sent.
    assert late.status_code == 409
    assert late.json()["refund"]["status"] == "rejected"
    assert len(await decisions_of(api, order_id)) == 1


async def test_two_decisions_are_two_events_and_only_the_applied_one_answers_200(
    skipping_env: WorkflowEnvironment,
    sessions: Sessions,
    api_settings: Settings,
    http: httpx.AsyncClient,
) -> None:
    """Approve, then reject, both while the refund awaits a decision (the run is still asking
    support): each is its own event; the run applies the first, and the reject is answered 409
    with what the run did."""
    hold, real = Hold(), real_refunds(sessions, http)

    @activity.defn(name="notify_refund_support")
    async def slow_support(request: SupportRequest) -> SlackReceipt:
        await hold()
        return await real.notify_refund_support(request)

    async with serving(skipping_env.client, sessions, api_settings, [slow_support]) as api:
        _, order_id = await order_of(api)
        await request_refund(api, order_id, 25_000)
        await asyncio.wait_for(hold.reached.wait(), 30)

        approving = asyncio.create_task(
            api.http.post(
                f"/api/refunds/{order_id}/approve", headers=STAFF, json={"decidedBy": "Lin"}
            )
        )
        await eventually(lambda: decisions_of(api, order_id))
        rejecting = asyncio.create_task(
            api.http.post(f"/api/refunds/{order_id}/reject", headers=STAFF)
        )

        async def both_sent() -> list[str] | None:
            sent = await decisions_of(api, order_id)
            return sent if len(sent) == 2 else None

        first, second = await eventually(both_sent)
        hold.released.set()
        approve, reject = await approving, await rejecting
        refund = await eventually(lambda: refund_in(api, order_id, "completed"))

    assert first != second
    assert approve.status_code == 200, approve.text
    assert (approve.json()["decisionId"], approve.json()["decision"]) == (first, "approved")
    assert reject.status_code == 409, reject.text
    assert reject.json()["refund"]["decisionId"] == first
    assert reject.json()["refund"]["status"] in ("approved", "completed")
    assert (refund["decidedBy"], refund["decisionId"]) == ("Lin", first)


async def test_a_decision_the_run_has_not_applied_yet_answers_202_and_is_applied_later(
    skipping_env: WorkflowEnvironment,
    sessions: Sessions,
    api_settings: Settings,
    http: httpx.AsyncClient,
) -> None:
    hold, real = Hold(), real_refunds(sessions, http)

    @activity.defn(name="notify_refund_support")
    async def slow_support(request: SupportRequest) -> SlackReceipt:
        await hold()
        return await real.notify_refund_support(request)

    settings = api_settings.model_copy(update={"refund_decision_wait_seconds": 0})
    async with serving(skipping_env.client, sessions, settings, [slow_support]) as api:
        _, order_id = await order_of(api)
        await request_refund(api, order_id, 25_000)
        await asyncio.wait_for(hold.reached.wait(), 30)

        rejected = await api.http.post(f"/api/refunds/{order_id}/reject", headers=STAFF)
        hold.released.set()
        refund = await eventually(lambda: refund_in(api, order_id, "rejected"))

    assert rejected.status_code == 202, rejected.text
    assert (rejected.json()["decision"], rejected.json()["status"]) == (
        "rejected",
        "awaiting_approval",
    )
    assert (refund["decisionId"], refund["rejectionReason"]) == (
        rejected.json()["decisionId"],
        "rejected by support",
    )
