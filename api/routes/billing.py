"""`POST /api/billing/subscriptions`: subscribe a user to a paid plan.

With a Stripe key, the customer and subscription are created through the Stripe SDK (idempotency
keys from the user, plan and attempt, so a retried request creates nothing twice) and Stripe's
webhook sends `billing/subscription.created`. Without one, the subscription is recorded locally and
the event sent from here, so `make dev` works offline."""

from typing import Annotated, Any

import stripe
from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import Field
from stripe import StripeClient
from temporalio.service import RPCError

from api.deps import RouterDep, ServicesDep, SessionsDep, SettingsDep
from api.errors import conflict, not_found, unavailable
from api.subscription_records import NewSubscription, SubscriptionRecords, live
from db.models import Subscription, User
from events.billing import SubscriptionCreated, SubscriptionCreatedData
from events.envelope import CamelModel
from events.router import Router
from events.users import PaidPlan
from settings import Settings

router = APIRouter(prefix="/api/billing", tags=["billing"])


def get_stripe(services: ServicesDep) -> StripeClient | None:
    return services.stripe


StripeDep = Annotated[StripeClient | None, Depends(get_stripe)]


class SubscriptionRequest(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    plan: PaidPlan


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
async def create_subscription(
    body: SubscriptionRequest,
    sessions: SessionsDep,
    events: RouterDep,
    settings: SettingsDep,
    stripe_client: StripeDep,
) -> dict[str, Any]:
    records = SubscriptionRecords(sessions)
    async with sessions() as session:
        user = await session.get(User, body.user_id)
    if user is None:
        raise not_found(f"no user with id '{body.user_id}'")
    previous = await records.of_user(user.id)
    current = live(previous)
    if current is not None:
        raise conflict(
            f"user {user.id} already has a {current.status} {current.plan} subscription "
            f"({current.id})"
        )
    # Earlier (ended) subscriptions make a new attempt: a retry of this request reuses its keys,
    # a later re-subscription gets fresh ones.
    attempt = len(previous)
    if stripe_client is None:
        row = await _subscribe_locally(records, events, user, body.plan, attempt)
    else:
        row = await _subscribe_with_stripe(
            records, stripe_client, settings, user, body.plan, attempt, previous
        )
    return {
        "subscriptionId": row.id,
        "userId": row.user_id,
        "plan": row.plan,
        "status": row.status,
        "provider": "local" if row.stripe_subscription_id is None else "stripe",
    }


async def _subscribe_locally(
    records: SubscriptionRecords, events: Router, user: User, plan: str, attempt: int
) -> Subscription:
    subscription_id = f"sub_local_{user.id}_{attempt}"
    row = await records.record(
        NewSubscription(id=subscription_id, user_id=user.id, plan=plan, status="active")
    )
    event = SubscriptionCreated(
        id=f"subscription-created-{subscription_id}",
        data=SubscriptionCreatedData(user_id=user.id, subscription_id=row.id, plan=plan),
    )
    try:
        await events.send([event])
    except RPCError as err:
        await records.forget(subscription_id, previous_plan=user.plan)
        raise unavailable(f"Temporal is unavailable, nothing was recorded: {err.message}") from err
    return row


async def _subscribe_with_stripe(
    records: SubscriptionRecords,
    client: StripeClient,
    settings: Settings,
    user: User,
    plan: str,
    attempt: int,
    previous: list[Subscription],
) -> Subscription:
    price = settings.stripe_price_pro if plan == "pro" else settings.stripe_price_enterprise
    customer_id = next((s.stripe_customer_id for s in previous if s.stripe_customer_id), None)
    try:
        if customer_id is None:
            customer = await client.v1.customers.create_async(
                params={"email": user.email, "name": user.name, "metadata": {"userId": user.id}},
                options={"idempotency_key": f"customer-{user.id}"},
            )
            customer_id = customer.id
        subscription = await client.v1.subscriptions.create_async(
            params={
                "customer": customer_id,
                "items": [{"price": price}],
                # The first invoice waits for the customer's payment instead of failing here.
                "payment_behavior": "default_incomplete",
                # The webhook maps Stripe's events back to our user with these.
                "metadata": {"userId": user.id, "plan": plan},
            },
            options={"idempotency_key": f"subscription-{user.id}-{plan}-{attempt}"},
        )
    except stripe.APIConnectionError as err:
        raise unavailable(f"Stripe is unreachable, nothing was created: {err}") from err
    except stripe.StripeError as err:
        raise HTTPException(
            status_code=502, detail=f"Stripe refused the subscription: {err.user_message or err}"
        ) from err
    return await records.record(
        NewSubscription(
            id=subscription.id,
            user_id=user.id,
            plan=plan,
            status=subscription.status,
            stripe_customer_id=customer_id,
        )
    )
