"""handle-order-shipped: on `order/shipped`, record the tracking number on the order and email the
customer."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.mail import EmailReceipt
    from activities.orders import CustomerNotice, OrderActivities, Shipment
    from events.orders import OrderShipped
    from inngest_temporal import Pipeline, function


@function(id="handle-order-shipped", trigger=OrderShipped, retries=3)
class HandleOrderShippedWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: OrderShipped) -> EmailReceipt:
        data = event.data
        await self.step.run(
            "update-order-shipped",
            OrderActivities.mark_order_shipped,
            Shipment(order_id=data.order_id, tracking_number=data.tracking_number),
        )
        return await self.step.run(
            "send-shipping-email",
            OrderActivities.send_shipping_email,
            CustomerNotice(
                order_id=data.order_id, idempotency_key=self.step.key("send-shipping-email")
            ),
        )
