"""`POST /api/webhooks/stripe`: Stripe's events, verified on the raw body with the webhook secret
(tampered, wrong secret, stale timestamp -> 400 and nothing recorded or routed), then translated
into ours (see api/stripe_events.py), recorded and emitted in one transaction. Types we do not
handle are acknowledged and ignored, so Stripe does not retry them."""

import stripe
from fastapi import APIRouter, Request
from pydantic import ValidationError

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, BadRequest
from api.stripe_events import Ignored, StripeEvent, StripeTranslator
from api.subscription_records import SubscriptionRecords
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)

# Stripe's own default: a signature older than five minutes is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


class WebhookReceipt(CamelModel):
    received: bool = True
    ignored: str | None = None
    event_id: str | None = None
    name: str | None = None


@router.post("/stripe", response_model=WebhookReceipt)
async def stripe_webhook(request: Request, services: ServicesDep) -> WebhookReceipt:
    payload = await request.body()
    secret = services.settings.stripe_webhook_secret
    if not secret:
        raise BadRequest("Stripe webhooks are not configured here (STRIPE_WEBHOOK_SECRET)")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            request.headers.get("stripe-signature", ""),
            secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as err:
        message = getattr(err, "user_message", None) or str(err)
        raise BadRequest(f"Stripe-Signature verification failed: {message}") from None
    try:
        event = StripeEvent.model_validate_json(payload)
    except ValidationError as err:
        raise BadRequest(f"not a Stripe event: {err.errors()[0]['msg']}") from None
    async with services.change() as change:
        translator = StripeTranslator(SubscriptionRecords(change.session), services.settings)
        try:
            ours = await translator.translate(event)
        except ValidationError as err:
            raise BadRequest(f"unexpected {event.type} payload: {err.errors()[0]['msg']}") from None
        if isinstance(ours, Ignored):
            return WebhookReceipt(ignored=ours.reason)
        # A redelivered Stripe event has the same id: stored once, routed once.
        await change.emit(ours)
    return WebhookReceipt(event_id=ours.id, name=ours.name)
