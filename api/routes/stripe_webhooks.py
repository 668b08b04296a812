"""`POST /api/webhooks/stripe`: Stripe's events, verified on the raw body with the webhook secret
(tampered, wrong secret, stale timestamp -> 400 and nothing recorded or routed), then translated
into ours (see api/stripe_events.py). Types we do not handle are acknowledged and ignored, so
Stripe does not retry them."""

from typing import Any

import stripe
from fastapi import APIRouter, Request
from pydantic import ValidationError
from temporalio.service import RPCError

from api.deps import RouterDep, SessionsDep, SettingsDep
from api.errors import bad_request, too_large, unavailable
from api.stripe_events import Ignored, StripeEvent, StripeTranslator
from api.subscription_records import SubscriptionRecords

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

# Stripe's own default: a signature older than five minutes is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


@router.post("/stripe")
async def stripe_webhook(
    request: Request, sessions: SessionsDep, events: RouterDep, settings: SettingsDep
) -> dict[str, Any]:
    payload = await request.body()
    if len(payload) > settings.max_body_bytes:
        raise too_large(f"request body is over the {settings.max_body_bytes} byte limit")
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            request.headers.get("stripe-signature"),
            settings.stripe_webhook_secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as err:
        raise bad_request(f"Stripe-Signature verification failed: {err.user_message}") from None
    try:
        event = StripeEvent.model_validate_json(payload)
    except ValidationError as err:
        raise bad_request(f"not a Stripe event: {err.errors()[0]['msg']}") from None
    try:
        ours = await StripeTranslator(SubscriptionRecords(sessions), settings).translate(event)
    except ValidationError as err:
        raise bad_request(f"unexpected {event.type} payload: {err.errors()[0]['msg']}") from None
    if isinstance(ours, Ignored):
        return {"received": True, "ignored": ours.reason}
    try:
        await events.send([ours])
    except RPCError as err:
        # Stripe retries on a non-2xx answer; the retry routes what this one could not.
        raise unavailable(f"Temporal is unavailable, please retry: {err.message}") from err
    return {"received": True, "eventId": ours.id, "name": ours.name}
