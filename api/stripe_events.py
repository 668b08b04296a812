"""Stripe's webhook events, typed as far as we read them, and what each becomes here: our local
subscription record kept in sync, and one of our events. `billing/subscription.created` has the
subscription's own id (`subscription-created-{Stripe subscription id}`), sent when the
subscription first pays or trials, whether Stripe tells us on creation or in a later update; the
others have `stripe-{Stripe event id}`. Either way a redelivered Stripe event is routed once:
the event log dedupes on the id."""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from api.subscription_records import NewSubscription, SubscriptionRecords, announcement
from events.billing import (
    PaymentFailed,
    PaymentFailedData,
    SubscriptionDeleted,
    SubscriptionDeletedData,
)
from inngest_temporal import Event
from settings import Settings


class StripeEventData(BaseModel):
    object: dict[str, Any]


class StripeEvent(BaseModel):
    id: str
    type: str
    created: int
    data: StripeEventData

    @property
    def our_id(self) -> str:
        return f"stripe-{self.id}"


class StripeSubscription(BaseModel):
    id: str
    customer: str
    status: str
    metadata: dict[str, str] = {}
    items: dict[str, Any] = {}

    def price_ids(self) -> list[str]:
        return [str(item.get("price", {}).get("id")) for item in self.items.get("data", [])]


class StripeSubscriptionDetails(BaseModel):
    subscription: str | None = None
    metadata: dict[str, str] | None = None


class StripeInvoiceParent(BaseModel):
    subscription_details: StripeSubscriptionDetails | None = None


class StripeInvoice(BaseModel):
    id: str
    customer: str | None = None
    amount_due: int
    currency: str
    attempt_count: int = 0
    subscription: str | None = None  # API versions before 2025-03-31
    parent: StripeInvoiceParent | None = None  # and after

    def details(self) -> StripeSubscriptionDetails:
        found = self.parent.subscription_details if self.parent else None
        return found or StripeSubscriptionDetails(subscription=self.subscription)


@dataclass(frozen=True)
class Ignored:
    reason: str


class StripeTranslator:
    def __init__(self, records: SubscriptionRecords, settings: Settings) -> None:
        self._records = records
        self._settings = settings

    async def translate(self, event: StripeEvent) -> Event | Ignored:
        if event.type in ("customer.subscription.created", "customer.subscription.updated"):
            return await self._synced(event)
        if event.type == "customer.subscription.deleted":
            return await self._deleted(event)
        if event.type == "invoice.payment_failed":
            return await self._payment_failed(event)
        return Ignored(f"{event.type} is not handled")

    async def _synced(self, event: StripeEvent) -> Event | Ignored:
        """Created or updated: our record follows Stripe's status, and a subscription that pays
        or trials is announced (once: the event id is the subscription's, so the created and
        every later update of an active subscription store one `billing/subscription.created`).
        A checkout still `incomplete` announces nothing: the trial runs on until it is paid."""
        subscription = StripeSubscription.model_validate(event.data.object)
        if await self._records.get(subscription.id) is None:
            # Stripe does not promise order: an update may be the first we hear of it.
            user_id = subscription.metadata.get("userId")
            plan = subscription.metadata.get("plan") or self._plan_of(subscription.price_ids())
            if not user_id or plan not in ("pro", "enterprise"):
                return Ignored("the subscription carries no userId/plan metadata: not ours")
            if not await self._records.user_exists(user_id):
                return Ignored(f"no user with id '{user_id}'")
            await self._records.record(
                NewSubscription(
                    id=subscription.id,
                    user_id=user_id,
                    plan=plan,
                    status=subscription.status,
                    stripe_customer_id=subscription.customer,
                )
            )
        row = await self._records.set_status(subscription.id, subscription.status)
        assert row is not None  # recorded above or before
        announced = announcement(row, ts=event.created * 1000)
        if announced is None:
            return Ignored(
                f"subscription {row.id} is {row.status}: status synced, nothing to announce"
            )
        return announced

    async def _deleted(self, event: StripeEvent) -> Event | Ignored:
        subscription = StripeSubscription.model_validate(event.data.object)
        row = await self._records.set_status(subscription.id, "canceled")
        user_id = row.user_id if row else subscription.metadata.get("userId")
        if not user_id:
            return Ignored("a subscription we never recorded and without userId metadata")
        return SubscriptionDeleted(
            id=event.our_id,
            ts=event.created * 1000,
            data=SubscriptionDeletedData.model_validate(
                {
                    "user_id": user_id,
                    "subscription_id": subscription.id,
                    "plan": row.plan if row else None,
                }
            ),
        )

    async def _payment_failed(self, event: StripeEvent) -> Event | Ignored:
        invoice = StripeInvoice.model_validate(event.data.object)
        details = invoice.details()
        user_id = (details.metadata or {}).get("userId")
        if not user_id and invoice.customer:
            user_id = await self._records.user_of_customer(invoice.customer)
        if not user_id:
            return Ignored("an invoice of a customer we do not know")
        return PaymentFailed(
            id=event.our_id,
            ts=event.created * 1000,
            data=PaymentFailedData(
                user_id=user_id,
                invoice_id=invoice.id,
                subscription_id=details.subscription,
                amount_due=invoice.amount_due,
                currency=invoice.currency,
                attempt_count=invoice.attempt_count,
            ),
        )

    def _plan_of(self, price_ids: list[str]) -> str | None:
        prices = {
            self._settings.stripe_price_pro: "pro",
            self._settings.stripe_price_enterprise: "enterprise",
        }
        return next((prices[p] for p in price_ids if p in prices), None)
