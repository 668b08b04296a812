"""The API as production runs it (ENVIRONMENT=production, every secret set), against the session's
dev server, with the `api` fixture's worker serving its runs."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from settings import Settings
from tests.api.conftest import ADMIN_TOKEN, Api, app_with
from tests.conftest import TEST_ENCRYPTION_KEY

EVENT_KEY = "producer-key-with-every-right-0123456789"
STOREFRONT_KEY = "storefront-key-users-and-orders-0123456"
SECRET_KEY = "signing-key-of-the-production-test-0123456789"


@dataclass
class Production:
    http: httpx.AsyncClient
    settings: Settings
    api: Api


@pytest.fixture
async def production(api: Api) -> AsyncIterator[Production]:
    overrides = {
        "environment": "production",
        "secret_key": SECRET_KEY,
        "admin_token": ADMIN_TOKEN,
        "event_key": EVENT_KEY,
        "event_keys": {STOREFRONT_KEY: ["user/*", "order/created"]},
        "payload_encryption_key": TEST_ENCRYPTION_KEY,
        "email_transport": "outbox",
        "payments": "local",
    }
    settings = Settings(**{**api.settings.model_dump(), **overrides})
    async with app_with(api, **overrides) as http:
        yield Production(http, settings, api)
