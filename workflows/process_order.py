"""process-order: check and reserve stock, hand the order to the fulfilment provider, confirm it
to the customer, then announce `order/fulfilled` (seed 003, "Core Function").

Compensation, written out: once a reservation may exist, a failure before the order reached the
provider releases it, and any failure up to then marks the order failed with the reason. The
provider's answers are not all alike: only a definite refusal (a 4xx, `FulfillmentRefused`)
compensates. After an ambiguous one (a timeout, a connection error, a 5xx) the provider may have
accepted the order, so `submit-fulfillment` asks again, under the same Idempotency-Key, pausing
longer each round (`wait-to-ask-fulfillment-again`), for up to a day; if it still has no answer,
or got one it cannot read, the run fails with the stock still held and the order `processing`,
for a person to settle with the provider. Every failed run tells the team on Slack
(`notify-team`, in the failure handler). After the provider accepted, the goods are on their
way: nothing is released, and every later step is idempotent."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.fulfillment import (
        FulfillmentActivities,
        FulfillmentReceipt,
        FulfillmentRequest,
    )
    from activities.inventory import InventoryActivities, OrderItems, OrderRef
    from activities.orders import CustomerNotice, FulfilledOrder, OrderActivities, OrderFailure
    from activities.slack import SlackActivities, SlackMessage
    from events.orders import OrderCreated, OrderFulfilled, OrderFulfilledData
    from inngest_temporal import CamelModel, Concurrency, FunctionFailed, Pipeline, function

# Providers can take 30-60 s; a silent worker is noticed by its missing heartbeats much sooner.
FULFILLMENT_TIMEOUT = timedelta(minutes=3)
FULFILLMENT_HEARTBEAT = timedelta(seconds=20)
# After an ambiguous answer: ask again after 5 minutes, then 10, 20, ... at most every four hours
# (a provider that is down is not hammered), for a day.
ASK_AGAIN_FIRST = timedelta(minutes=5)
ASK_AGAIN_AT_MOST = timedelta(hours=4)
KEEP_ASKING_FOR = timedelta(days=1)
# Runs started before these changes replay as they ran (workflow.patched).
ASKS_AGAIN = "fulfillment-asks-again"
TELLS_TEAM = "order-failure-tells-team"


class OrderResult(CamelModel):
    order_id: str
    fulfillment_id: str


class FulfillmentUnconfirmed(ApplicationError):
    """The provider may have the order but never confirmed it: the stock stays held."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="FulfillmentUnconfirmed", non_retryable=True)


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
            fulfillment = await self._submit(
                FulfillmentRequest(
                    order_id=data.order_id, customer_id=data.customer_id, items=data.items
                )
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

    async def _submit(self, request: FulfillmentRequest) -> FulfillmentReceipt:
        """The provider's receipt. Raises the step's ActivityError for a definite refusal (the
        caller compensates) and FulfillmentUnconfirmed, which compensates nothing, when the
        provider may have the order but did not confirm it."""
        pause, first_unanswered = ASK_AGAIN_FIRST, None
        while True:
            try:
                return await self.step.run(
                    "submit-fulfillment",
                    FulfillmentActivities.submit_fulfillment,
                    request,
                    timeout=FULFILLMENT_TIMEOUT,
                    heartbeat_timeout=FULFILLMENT_HEARTBEAT,
                )
            except ActivityError as err:
                if is_cancelled_exception(err) or _refused(err):
                    raise
                if not workflow.patched(ASKS_AGAIN):
                    raise  # as runs started before it did: compensate
                first_unanswered = first_unanswered or workflow.now()
                if _answered(err) or workflow.now() - first_unanswered >= KEEP_ASKING_FOR:
                    raise FulfillmentUnconfirmed(
                        f"the fulfilment provider may have order {request.order_id} but did not "
                        f"confirm it ({_reason(err)}): its stock is still held"
                    ) from None  # reported as itself, not as the provider's last answer
            await self.step.sleep("wait-to-ask-fulfillment-again", pause)
            pause = min(pause * 2, ASK_AGAIN_AT_MOST)

    async def on_failure(self, failure: FunctionFailed) -> None:
        if not workflow.patched(TELLS_TEAM):
            return
        order_id = OrderCreated.model_validate(failure.data.event).data.order_id
        error = failure.data.error
        await self.step.run(
            "notify-team",
            SlackActivities.post_to_slack,
            SlackMessage(
                text="\n".join(
                    [
                        f"*Order failed*: {order_id}",
                        f"{error.name}: {error.message}",
                        f"Run: {workflow.info().workflow_id} ({failure.data.run_id})",
                    ]
                ),
                idempotency_key=self.step.key("notify-team"),
            ),
        )


def _refused(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type == "FulfillmentRefused"


def _answered(err: ActivityError) -> bool:
    """The provider gave a final answer that is not a refusal (asking again changes nothing)."""
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.non_retryable


def _reason(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or err)
