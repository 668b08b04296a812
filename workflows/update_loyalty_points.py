"""update-loyalty-points: points for every fulfilled order, credited once per order even when
`order/fulfilled` is delivered twice (the ledger's unique order id)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.loyalty import LoyaltyActivities, LoyaltyBalance, LoyaltyCredit
    from events.orders import OrderFulfilled
    from inngest_temporal import Pipeline, function


@function(id="update-loyalty-points", trigger=OrderFulfilled, retries=3)
class UpdateLoyaltyPointsWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: OrderFulfilled) -> LoyaltyBalance:
        data = event.data
        return await self.step.run(
            "update-loyalty-points",
            LoyaltyActivities.credit_loyalty_points,
            LoyaltyCredit(
                order_id=data.order_id, customer_id=data.customer_id, total_cents=data.total_cents
            ),
        )
