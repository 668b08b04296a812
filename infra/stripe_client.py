"""The Stripe client, or None when no key is configured (billing is then recorded locally)."""

from stripe import StripeClient

from settings import Settings


def make_stripe_client(settings: Settings) -> StripeClient | None:
    if not settings.uses_stripe or not settings.stripe_secret_key:
        return None
    if settings.stripe_api_base:
        # Tests point the real SDK at a recording server on 127.0.0.1.
        return StripeClient(
            settings.stripe_secret_key, base_addresses={"api": settings.stripe_api_base}
        )
    return StripeClient(settings.stripe_secret_key)
