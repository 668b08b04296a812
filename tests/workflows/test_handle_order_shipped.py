"""handle-order-shipped: the tracking number lands on the order and in the customer's inbox."""

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from db.models import Order
from events.orders import OrderShipped, OrderShippedData
from inngest_temporal import Sessions
from tests.shop import add_order, add_product, add_user, emails_to, step_error
from tests.support import make_worker, step_times, unique
from workflows.handle_order_shipped import HandleOrderShippedWorkflow


def shipped(order_id: str) -> OrderShipped:
    return OrderShipped(
        id=unique("evt"), data=OrderShippedData(order_id=order_id, tracking_number="1Z999AA10")
    )


async def test_marks_the_order_shipped_and_emails_the_tracking_number(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions, name="Grace")
    event = await add_order(
        sessions, customer.id, [(await add_product(sessions, 3), 1, 2_500)], status="fulfilled"
    )
    order_id = event.data.order_id

    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await skipping_env.client.start_workflow(
            HandleOrderShippedWorkflow.run,
            shipped(order_id),
            id=unique("handle-order-shipped"),
            task_queue=task_queue,
        )
        await handle.result()
        steps = [step for step, _ in await step_times(handle)]

    assert steps == ["update-order-shipped", "send-shipping-email"]
    async with sessions() as session:
        order = await session.get(Order, order_id)
    assert order is not None
    assert (order.status, order.tracking_number) == ("shipped", "1Z999AA10")
    assert order.shipped_at is not None
    [email] = await emails_to(sessions, customer.email)
    assert email.subject == f"Your order {order_id} has shipped"
    assert "Hi Grace" in email.body and "1Z999AA10" in email.body


async def test_an_order_that_was_never_fulfilled_cannot_ship(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    customer = await add_user(sessions)
    event = await add_order(
        sessions, customer.id, [(await add_product(sessions, 3), 1, 2_500)], status="failed"
    )

    async with make_worker(skipping_env.client, sessions, task_queue):
        with pytest.raises(WorkflowFailureError) as failure:
            await skipping_env.client.execute_workflow(
                HandleOrderShippedWorkflow.run,
                shipped(event.data.order_id),
                id=unique("handle-order-shipped"),
                task_queue=task_queue,
            )

    assert step_error(failure.value) == (
        f"order {event.data.order_id} is failed, expected fulfilled/shipped"
    )
    assert await emails_to(sessions, customer.email) == []
