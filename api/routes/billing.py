"""`POST /api/billing/subscriptions`: subscribe a user to a paid plan.

With a Stripe key, the customer and subscription are created through the Stripe SDK (idempotency
keys from the user, plan and attempt, so a retried request creates nothing twice) and Stripe's
webhook sends `billing/subscription.created` once the subscription is paid (see the table of
states in db/models/billing.py). Without one, the subscription is recorded locally as `active`
and the event stored with it, so `make dev` works offline."""

from typing import Annotated, Literal

import stripe
from fastapi import APIRouter, Depends, status
from stripe import StripeClient

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, BadGateway, Conflict, NotFound, Unavailable
from api.security import CurrentUser
from api.subscription_records import NewSubscription, SubscriptionRecords, announcement, live
from db.models import Subscription, User
from events.users import PaidPlan
from inngest_temporal import CamelModel
from settings import Settings

router = APIRouter(prefix="/api/billing", tags=["billing"], responses=ERROR_RESPONSES)


async def get_stripe(services: ServicesDep) -> StripeClient | None:
    return services.stripe


StripeDep = Annotated[StripeClient | None, Depends(get_stripe)]


class SubscriptionRequest(CamelModel):
    """The subscriber is the signed-in user (never a user named in the body)."""

    plan: PaidPlan


class SubscriptionResponse(CamelModel):
    subscription_id: str
    user_id: str
    plan: str
    status: str
    provider: Literal["local", "stripe"]


@router.post(
    "/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionResponse
)
async def create_subscription(
    body: SubscriptionRequest, services: ServicesDep, stripe_client: StripeDep, who: CurrentUser
) -> SubscriptionResponse:
    async with services.sessions() as session:
        user = await session.get(User, who.id)
        if user is None:
            raise NotFound("the signed-in account no longer exists")
        previous = await SubscriptionRecords(session).of_user(user.id)
    current = live(previous)
    if current is not None:
        raise Conflict(
            f"user {user.id} already has a {current.status} {current.plan} subscription "
            f"({current.id})"
        )
    # Earlier (ended) subscriptions make a new attempt: a retry of this request reuses its keys,
    # a later re-subscription gets fresh ones.
    attempt = len(previous)
    if stripe_client is None:
        new = NewSubscription(
            id=f"sub_local_{user.id}_{attempt}", user_id=user.id, plan=body.plan, status="active"
        )
    else:
        # Outside any transaction: the database is not held while Stripe answers.
        new = await _create_with_stripe(
            stripe_client, services.settings, user, body.plan, attempt, previous
        )
    async with services.change() as change:
        row = await SubscriptionRecords(change.session).record(new)
        # Paid (or trialing) already: announced now, with the subscription's own event id, so
        # Stripe's webhook saying the same later stores nothing twice. A checkout that waits
        # for payment (`incomplete`) is announced by the webhook once it is paid.
        announced = announcement(row)
        if announced is not None:
            await change.emit(announced)
    return SubscriptionResponse(
        subscription_id=row.id,
        user_id=row.user_id,
        plan=row.plan,
        status=row.status,
        provider="local" if row.stripe_subscription_id is None else "stripe",
    )


async def _create_with_stripe(
    client: StripeClient,
    settings: Settings,
    user: User,
    plan: str,
    attempt: int,
    previous: list[Subscription],
) -> NewSubscription:
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
        raise Unavailable(f"Stripe is unreachable, nothing was created: {err}") from err
    except stripe.StripeError as err:
        raise BadGateway(f"Stripe refused the subscription: {err.user_message or err}") from err
    return NewSubscription(
        id=subscription.id,
        user_id=user.id,
        plan=plan,
        status=subscription.status,
        stripe_customer_id=customer_id,
    )
