"""process-order on the time-skipping server, with the real activities and database."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.fulfillment import FulfillmentReceipt, FulfillmentRefused, FulfillmentRequest
from activities.inventory import InventoryActivities, OrderItems
from db.models import Fulfillment, Order, OutboxMessage, Product, Reservation
from events.orders import OrderCreated
from inngest_temporal import NonRetriableError, Sessions
from inngest_temporal.store import EventRoute, StoredEvent
from settings import Settings
from tests.http_recorder import HttpRecorder, Reply
from tests.shop import add_order, add_product, add_user, emails_to, shop_settings, step_error
from tests.support import make_worker, step_times, unique
from workflows.process_order import OrderResult, ProcessOrderWorkflow


@asynccontextmanager
async def order_worker(
    env: WorkflowEnvironment,
    sessions: Sessions,
    task_queue: str,
    settings: Settings | None = None,
    **options: Any,
) -> AsyncIterator[None]:
    """A worker that, before it stops, lets finish what the runs set going: the loyalty runs their
    `order/fulfilled` started. A workflow task left pending on a stopped queue would hold the
    time-skipping server's clock for every later test."""
    began = datetime.now(UTC)
    settings = settings or shop_settings()
    async with make_worker(env.client, sessions, task_queue, settings=settings, **options):
        yield
        async with sessions() as session:
            started = await session.scalars(
                select(EventRoute.workflow_id).where(EventRoute.routed_at >= began)
            )
            workflow_ids = list(started)
        for workflow_id in workflow_ids:
            await env.client.get_workflow_handle(workflow_id).result()


async def start(
    env: WorkflowEnvironment, event: OrderCreated, task_queue: str
) -> WorkflowHandle[ProcessOrderWorkflow, OrderResult]:
    return await env.client.start_workflow(
        ProcessOrderWorkflow.run, event, id=unique("process-order"), task_queue=task_queue
    )


async def product(sessions: Sessions, product_id: str) -> tuple[int, int]:
    async with sessions() as session:
        found = await session.get(Product, product_id)
        assert found is not None
        return found.stock, found.reserved


async def order_row(sessions: Sessions, order_id: str) -> Order:
    async with sessions() as session:
        found = await session.get(Order, order_id)
        assert found is not None
        return found


async def reservations(sessions: Sessions, order_id: str) -> list[tuple[str, int, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(Reservation).where(Reservation.order_id == order_id))
        return [(r.product_id, r.quantity, r.status) for r in rows]


async def test_reserves_fulfils_confirms_and_announces_the_order(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions, name="Grace")
    print_id, mug_id = await add_product(sessions, 5, 12_000), await add_product(sessions, 3, 1_500)
    event = await add_order(sessions, customer.id, [(print_id, 2, 12_000), (mug_id, 1, 1_500)])
    order_id = event.data.order_id

    async with order_worker(skipping_env, sessions, task_queue):
        handle = await start(skipping_env, event, task_queue)
        result = await handle.result()
        steps = [step for step, _ in await step_times(handle)]
        async with sessions() as session:
            fulfilled = (
                await session.scalars(
                    select(StoredEvent).where(
                        StoredEvent.name == "order/fulfilled",
                        StoredEvent.data["orderId"].as_string() == order_id,
                    )
                )
            ).one()
            [loyalty] = (
                await session.scalars(select(EventRoute).where(EventRoute.event_id == fulfilled.id))
            ).all()

    assert steps == [
        "check-inventory",
        "reserve-inventory",
        "update-order-processing",
        "submit-fulfillment",
        "update-order-fulfilled",
        "send-confirmation",
        "send-order-fulfilled",
    ]
    order = await order_row(sessions, order_id)
    assert (order.status, order.fulfillment_id) == ("fulfilled", result.fulfillment_id)
    assert order.estimated_delivery is not None
    # The reserved units left the warehouse: out of stock, no longer reserved.
    assert await product(sessions, print_id) == (3, 0)
    assert await product(sessions, mug_id) == (2, 0)
    assert sorted(await reservations(sessions, order_id)) == sorted(
        [(print_id, 2, "consumed"), (mug_id, 1, "consumed")]
    )
    [confirmation] = await emails_to(sessions, customer.email)
    assert confirmation.subject == f"Your order {order_id} is on its way"
    assert "2 x Signed print: $240.00" in confirmation.body and "$255.00" in confirmation.body
    assert fulfilled.data["fulfillmentId"] == result.fulfillment_id
    assert fulfilled.data["totalCents"] == 25_500
    assert loyalty.function_id == "update-loyalty-points"


async def test_out_of_stock_fails_the_order_and_reserves_nothing(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions)
    plenty, scarce = await add_product(sessions, 10), await add_product(sessions, 1)
    event = await add_order(sessions, customer.id, [(plenty, 1, 2_500), (scarce, 2, 2_500)])

    async with order_worker(skipping_env, sessions, task_queue):
        handle = await start(skipping_env, event, task_queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert step_error(failure.value) == f"Product {scarce} out of stock"
    assert steps == ["check-inventory", "mark-order-failed", "notify-team", "report-failure"]
    order = await order_row(sessions, event.data.order_id)
    assert (order.status, order.failure_reason) == ("failed", f"Product {scarce} out of stock")
    assert await product(sessions, plenty) == (10, 0)
    assert await product(sessions, scarce) == (1, 0)
    assert await reservations(sessions, event.data.order_id) == []
    assert await emails_to(sessions, customer.email) == []


async def test_two_orders_racing_for_the_last_unit_exactly_one_wins(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions)
    last_one = await add_product(sessions, 1)
    first, second = [await add_order(sessions, customer.id, [(last_one, 1, 2_500)]) for _ in "ab"]

    # No timer to skip to: a skipping server under load would skip to its workflow task timeout
    # while the runs' tasks are still running (temporalio/sdk-java#1291).
    with skipping_env.auto_time_skipping_disabled():
        async with order_worker(skipping_env, sessions, task_queue):
            handles = [await start(skipping_env, e, task_queue) for e in (first, second)]
            outcomes = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)

    won = [o for o in outcomes if isinstance(o, OrderResult)]
    lost = [o for o in outcomes if isinstance(o, WorkflowFailureError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert step_error(lost[0]) == f"Product {last_one} out of stock"
    statuses = sorted(
        [(await order_row(sessions, e.data.order_id)).status for e in (first, second)]
    )
    assert statuses == ["failed", "fulfilled"]
    assert await product(sessions, last_one) == (0, 0)


async def test_concurrent_reservations_never_oversell(sessions: Sessions) -> None:
    """Eight orders at once for three units, straight at the database: three reservations."""
    customer = await add_user(sessions)
    scarce = await add_product(sessions, 3)
    orders = [await add_order(sessions, customer.id, [(scarce, 1, 2_500)]) for _ in range(8)]
    inventory = InventoryActivities(sessions)

    outcomes = await asyncio.gather(
        *(
            inventory.reserve_inventory(OrderItems(order_id=o.data.order_id, items=o.data.items))
            for o in orders
        ),
        return_exceptions=True,
    )

    refused = [o for o in outcomes if isinstance(o, NonRetriableError)]
    assert len(refused) == 5 and len(outcomes) - len(refused) == 3, outcomes
    assert await product(sessions, scarce) == (3, 3)


async def test_a_failing_fulfilment_releases_the_reservation(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 4)
    event = await add_order(sessions, customer.id, [(product_id, 3, 2_500)])
    attempts: list[int] = []

    @activity.defn(name="submit_fulfillment")
    async def warehouse_down(request: FulfillmentRequest) -> FulfillmentReceipt:
        # Unreachable, then refusing: a retriable failure is retried, a refusal ends the step.
        attempts.append(activity.info().attempt)
        if len(attempts) == 1:
            raise RuntimeError("warehouse API unreachable")
        raise FulfillmentRefused("warehouse refused the order: address incomplete")

    async with order_worker(skipping_env, sessions, task_queue, fakes=[warehouse_down]):
        handle = await start(skipping_env, event, task_queue)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert attempts == [1, 2]
    assert steps == [
        "check-inventory",
        "reserve-inventory",
        "update-order-processing",
        "submit-fulfillment",
        "release-inventory",
        "mark-order-failed",
        "notify-team",
        "report-failure",
    ]
    assert await product(sessions, product_id) == (4, 0)
    assert await reservations(sessions, event.data.order_id) == [(product_id, 3, "released")]
    order = await order_row(sessions, event.data.order_id)
    assert (order.status, order.failure_reason) == (
        "failed",
        "warehouse refused the order: address incomplete",
    )
    async with sessions() as session:
        assert await session.get(Fulfillment, f"ful_{event.data.order_id}") is None
    assert await emails_to(sessions, customer.email) == []


async def slack_alerts(sessions: Sessions, order_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.body).where(
                OutboxMessage.channel == "slack", OutboxMessage.body.contains(order_id)
            )
        )
        return list(rows)


async def test_an_order_the_provider_may_have_accepted_is_asked_again_never_released(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """Six 503s (more than the step's four attempts), then the provider confirms: the order is
    asked for again under the same Idempotency-Key and fulfilled; its stock is never released."""
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 4)
    event = await add_order(sessions, customer.id, [(product_id, 3, 2_500)])
    order_id = event.data.order_id
    provider = HttpRecorder(lambda _: Reply(201, {"id": "wh_77", "estimatedDelivery": None}))
    provider.replies = [Reply(503, {"error": "overloaded"}) for _ in range(6)]

    with provider.serving():
        settings = shop_settings(fulfillment_url=f"{provider.url}/fulfillments")
        async with order_worker(skipping_env, sessions, task_queue, settings=settings):
            handle = await start(skipping_env, event, task_queue)
            result = await handle.result()
            steps = [step for step, _ in await step_times(handle)]

    assert result.fulfillment_id == "wh_77"
    assert steps == [
        "check-inventory",
        "reserve-inventory",
        "update-order-processing",
        "submit-fulfillment",  # four 503s, then wait-to-ask-fulfillment-again (a timer)
        "submit-fulfillment",
        "update-order-fulfilled",
        "send-confirmation",
        "send-order-fulfilled",
    ]
    assert len(provider.requests) == 7
    assert {r.headers["idempotency-key"] for r in provider.requests} == {f"fulfillment-{order_id}"}
    assert (await order_row(sessions, order_id)).status == "fulfilled"
    assert await reservations(sessions, order_id) == [(product_id, 3, "consumed")]
    assert await product(sessions, product_id) == (1, 0)


async def test_a_provider_that_never_answers_leaves_the_stock_held_and_tells_the_team(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """Timeouts for a whole day: the provider may have the order, so it is not marked failed and
    its stock is not released; the run fails for a person, and the team hears of it."""
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 4)
    event = await add_order(sessions, customer.id, [(product_id, 3, 2_500)])
    order_id = event.data.order_id

    @activity.defn(name="submit_fulfillment")
    async def silent(request: FulfillmentRequest) -> FulfillmentReceipt:
        raise httpx.ReadTimeout("the fulfilment provider did not answer")

    async with order_worker(skipping_env, sessions, task_queue, fakes=[silent]):
        handle = await start(skipping_env, event, task_queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        times = await step_times(handle)

    assert step_error(failure.value) == (
        f"the fulfilment provider may have order {order_id} but did not confirm it "
        "(the fulfilment provider did not answer): its stock is still held"
    )
    steps = [step for step, _ in times]
    assert "release-inventory" not in steps and "mark-order-failed" not in steps
    assert steps[-2:] == ["notify-team", "report-failure"]
    asked = [at for step, at in times if step == "submit-fulfillment"]
    assert timedelta(days=1) <= asked[-1] - asked[0] < timedelta(days=1, hours=2)
    order = await order_row(sessions, order_id)
    assert (order.status, order.failure_reason) == ("processing", None)
    assert await reservations(sessions, order_id) == [(product_id, 3, "held")]
    assert await product(sessions, product_id) == (4, 3)
    [alert] = await slack_alerts(sessions, order_id)
    assert "Order failed" in alert and "stock is still held" in alert
