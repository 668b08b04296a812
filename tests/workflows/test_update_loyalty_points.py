"""update-loyalty-points: credited once per order, however often `order/fulfilled` arrives."""

from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.models import LoyaltyEntry
from events.orders import OrderFulfilled, OrderFulfilledData
from inngest_temporal import Sessions
from tests.shop import add_order, add_product, add_user
from tests.support import make_worker, unique
from workflows.update_loyalty_points import UpdateLoyaltyPointsWorkflow


async def test_points_are_credited_once_when_the_event_is_delivered_twice(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 10, price_cents=4_250)
    earlier = await add_order(sessions, customer.id, [(product_id, 1, 4_250)], status="fulfilled")
    order = await add_order(sessions, customer.id, [(product_id, 3, 4_250)], status="fulfilled")

    def delivery(order_id: str, total_cents: int) -> OrderFulfilled:
        # Each delivery is a distinct event (its own id), as a redelivery from a queue would be.
        return OrderFulfilled(
            id=unique("evt"),
            data=OrderFulfilledData(
                order_id=order_id,
                customer_id=customer.id,
                total_cents=total_cents,
                fulfillment_id=f"ful_{order_id}",
            ),
        )

    async with make_worker(skipping_env.client, sessions, task_queue):
        results = [
            await skipping_env.client.execute_workflow(
                UpdateLoyaltyPointsWorkflow.run,
                event,
                id=unique("update-loyalty-points"),
                task_queue=task_queue,
            )
            for event in (
                delivery(earlier.data.order_id, 4_250),
                delivery(order.data.order_id, 12_750),
                delivery(order.data.order_id, 12_750),
            )
        ]

    assert [(r.credited, r.points, r.balance) for r in results] == [
        (True, 42, 42),
        (True, 127, 169),
        (False, 127, 169),
    ]
    async with sessions() as session:
        entries = await session.scalar(
            select(func.count()).where(LoyaltyEntry.order_id == order.data.order_id)
        )
    assert entries == 1
