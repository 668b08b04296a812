"""Handing an order to the fulfilment provider: an HTTP service at FULFILLMENT_URL, or, when none
is configured, a built-in local provider that takes FULFILLMENT_LOCAL_SECONDS (so `make dev` works
offline and shows a slow step).

Providers can take 30-60 s. The activity heartbeats while it waits, so a dead worker is noticed in
seconds (heartbeat timeout) rather than at the step's timeout. Every submission is recorded in the
fulfillments table under the order id, and the HTTP provider receives the order id as its
Idempotency-Key, so a retried step never fulfils an order twice.

What an answer means for the order: a 4xx refusal is definite (`FulfillmentRefused`: the order
fails and releases its stock); a timeout, a connection error or a 5xx is ambiguous (the provider
may have the order: retried, and process-order keeps asking); a 2xx we cannot read is an
acceptance we cannot record (`FulfillmentUnreadable`: nothing is released, a person looks)."""

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from pydantic import Field, ValidationError
from sqlalchemy import select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.models import Fulfillment
from events.orders import OrderItem
from inngest_temporal import CamelModel, NonRetriableError, RetryAfterError, Sessions, insert_ignore

HEARTBEAT_EVERY = timedelta(seconds=5)
LOCAL_DELIVERY_TIME = timedelta(days=3)
# Below the step's start-to-close timeout, so a hung provider fails the attempt, not the step.
HTTP_TIMEOUT = httpx.Timeout(150.0, connect=10.0)

T = TypeVar("T")
# Answers in the 4xx range that do not say "no": the request may still be (or have been) taken.
AMBIGUOUS = (408, 409, 425, 429)


class FulfillmentRefused(NonRetriableError):
    """The provider answered that it will not take the order (a 4xx): a definite refusal, the one
    failure of submit-fulfillment after which the order may release its stock."""

    def __init__(self, message: str) -> None:
        ApplicationError.__init__(self, message, type="FulfillmentRefused", non_retryable=True)


class FulfillmentUnreadable(NonRetriableError):
    """The provider accepted (2xx) but its answer cannot be used: it may have the order, so
    nothing is released; asking again would get the same answer, so a person looks."""

    def __init__(self, message: str) -> None:
        ApplicationError.__init__(self, message, type="FulfillmentUnreadable", non_retryable=True)


class FulfillmentRequest(CamelModel):
    order_id: str
    customer_id: str
    items: list[OrderItem]


class FulfillmentReceipt(CamelModel):
    fulfillment_id: str
    estimated_delivery: datetime | None
    provider: str  # local | http


class ProviderAnswer(CamelModel):
    """What the HTTP provider answers: `{"id": ..., "estimatedDelivery": ...}`."""

    # fulfillments.id and orders.fulfillment_id hold 200 characters (PostgreSQL enforces it).
    id: str = Field(max_length=200)
    estimated_delivery: datetime | None = None


class FulfillmentActivities:
    def __init__(
        self, sessions: Sessions, http: httpx.AsyncClient, url: str | None, local_seconds: float
    ) -> None:
        self._sessions = sessions
        self._http = http
        self._url = url
        self._local_time = timedelta(seconds=local_seconds)

    @activity.defn
    async def submit_fulfillment(self, request: FulfillmentRequest) -> FulfillmentReceipt:
        submit = self._submit_http(request) if self._url else self._submit_local(request)
        return await _with_heartbeats(submit)

    async def _submit_http(self, request: FulfillmentRequest) -> FulfillmentReceipt:
        assert self._url is not None
        recorded = await self._recorded(request.order_id)
        if recorded is not None:
            return _receipt(recorded)
        response = await self._http.post(
            self._url,
            json={
                "orderId": request.order_id,
                "customerId": request.customer_id,
                "items": [
                    {"productId": i.product_id, "quantity": i.quantity} for i in request.items
                ],
            },
            headers={"Idempotency-Key": f"fulfillment-{request.order_id}"},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code == 429:
            wait = response.headers.get("retry-after", "")
            delay = timedelta(seconds=int(wait)) if wait.isdigit() else timedelta(seconds=30)
            raise RetryAfterError("the fulfilment provider asked us to slow down", delay)
        if 400 <= response.status_code < 500 and response.status_code not in AMBIGUOUS:
            raise FulfillmentRefused(
                f"the fulfilment provider refused order {request.order_id} "
                f"({response.status_code}): {response.text[:500]}"
            )
        # 5xx, 408, 409 (the same key still in progress), 425: it may have the order. Raised as
        # retryable: the step asks again, under the same Idempotency-Key.
        response.raise_for_status()
        try:
            answer = ProviderAnswer.model_validate(response.json())
        except (ValueError, ValidationError) as err:
            raise FulfillmentUnreadable(
                f"unexpected answer from the fulfilment provider: {err}"
            ) from err
        now = datetime.now(UTC)
        return _receipt(
            await self._record(
                {
                    "id": answer.id,
                    "order_id": request.order_id,
                    "provider": "http",
                    "status": "accepted",
                    "ready_at": now,
                    "estimated_delivery": answer.estimated_delivery,
                }
            )
        )

    async def _submit_local(self, request: FulfillmentRequest) -> FulfillmentReceipt:
        now = datetime.now(UTC)
        # A retry finds the first attempt's record and waits only for what is left of its time.
        fulfillment = await self._record(
            {
                "id": f"ful_{request.order_id}",
                "order_id": request.order_id,
                "provider": "local",
                "status": "submitted",
                "ready_at": now + self._local_time,
                "estimated_delivery": now + LOCAL_DELIVERY_TIME,
            }
        )
        remaining = (fulfillment.ready_at - datetime.now(UTC)).total_seconds()
        if remaining > 0:
            await asyncio.sleep(remaining)
        async with self._sessions() as session:
            await session.execute(
                update(Fulfillment)
                .where(Fulfillment.id == fulfillment.id)
                .values(status="accepted")
            )
            await session.commit()
        return _receipt(fulfillment)

    async def _recorded(self, order_id: str) -> Fulfillment | None:
        async with self._sessions() as session:
            found: Fulfillment | None = await session.scalar(
                select(Fulfillment).where(Fulfillment.order_id == order_id)
            )
        return found

    async def _record(self, values: dict[str, Any]) -> Fulfillment:
        """Inserts unless the order already has one; returns the order's fulfilment either way."""
        async with self._sessions() as session:
            await session.execute(insert_ignore(session, Fulfillment), values)
            await session.commit()
        recorded = await self._recorded(values["order_id"])
        assert recorded is not None
        return recorded


def _receipt(fulfillment: Fulfillment) -> FulfillmentReceipt:
    return FulfillmentReceipt(
        fulfillment_id=fulfillment.id,
        estimated_delivery=fulfillment.estimated_delivery,
        provider=fulfillment.provider,
    )


async def _with_heartbeats(work: Awaitable[T]) -> T:
    """Awaits `work`, heartbeating meanwhile; a cancelled activity cancels the work."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY.total_seconds())
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()
