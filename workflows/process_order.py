"""process-order: check and reserve stock, hand the order to the fulfilment provider, confirm it
to the customer, then announce `order/fulfilled` (seed 003, "Core Function").

Compensation, written out: once a reservation may exist, a failure before the provider accepted
the order releases it, and any failure up to then marks the order failed with the reason. After
the provider accepted, the goods are on their way: nothing is released, a failure there fails the
run for an operator to retry (Temporal reset), and every step is idempotent."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.fulfillment import FulfillmentActivities, FulfillmentRequest
    from activities.inventory import InventoryActivities, OrderItems, OrderRef
    from activities.orders import CustomerNotice, FulfilledOrder, OrderActivities, OrderFailure
    from events.orders import OrderCreated, OrderFulfilled, OrderFulfilledData
    from inngest_temporal import CamelModel, Concurrency, Pipeline, function

# Providers can take 30-60 s; a silent worker is noticed by its missing heartbeats much sooner.
FULFILLMENT_TIMEOUT = timedelta(minutes=3)
FULFILLMENT_HEARTBEAT = timedelta(seconds=20)


class OrderResult(CamelModel):
    order_id: str
    fulfillment_id: str


@function(id="process-order", trigger=OrderCreated, retries=3, concurrency=Concurrency(limit=10))
class ProcessOrderWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: OrderCreated) -> OrderResult:
        data = event.data
        order = OrderItems(order_id=data.order_id, items=data.items)
        ref = OrderRef(order_id=data.order_id)
        may_hold_stock = False
        try:
            await self.step.run("check-inventory", InventoryActivities.check_inventory, order)
            # From here on: even a reserve step that failed may have committed before it did.
            may_hold_stock = True
            await self.step.run("reserve-inventory", InventoryActivities.reserve_inventory, order)
            await self.step.run(
                "update-order-processing", OrderActivities.update_order_processing, ref
            )
            fulfillment = await self.step.run(
                "submit-fulfillment",
                FulfillmentActivities.submit_fulfillment,
                FulfillmentRequest(
                    order_id=data.order_id, customer_id=data.customer_id, items=data.items
                ),
                timeout=FULFILLMENT_TIMEOUT,
                heartbeat_timeout=FULFILLMENT_HEARTBEAT,
            )
        except ActivityError as err:
            if may_hold_stock:
                await self.step.run("release-inventory", InventoryActivities.release_inventory, ref)
            await self.step.run(
                "mark-order-failed",
                OrderActivities.mark_order_failed,
                OrderFailure(order_id=data.order_id, reason=_reason(err)),
            )
            raise

        await self.step.run(
            "update-order-fulfilled",
            OrderActivities.update_order_fulfilled,
            FulfilledOrder(
                order_id=data.order_id,
                fulfillment_id=fulfillment.fulfillment_id,
                estimated_delivery=fulfillment.estimated_delivery,
            ),
        )
        await self.step.run(
            "send-confirmation",
            OrderActivities.send_order_confirmation,
            CustomerNotice(
                order_id=data.order_id, idempotency_key=self.step.key("send-confirmation")
            ),
        )
        await self.step.send_event(
            "send-order-fulfilled",
            OrderFulfilled(
                data=OrderFulfilledData(
                    order_id=data.order_id,
                    customer_id=data.customer_id,
                    total_cents=data.total_cents,
                    fulfillment_id=fulfillment.fulfillment_id,
                    estimated_delivery=fulfillment.estimated_delivery,
                )
            ),
        )
        return OrderResult(order_id=data.order_id, fulfillment_id=fulfillment.fulfillment_id)


def _reason(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or err)
