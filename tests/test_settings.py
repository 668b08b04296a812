"""Settings: placeholders are fine in development and refused in production."""

import pytest
from pydantic import ValidationError

from settings import Settings


def test_development_accepts_placeholder_secrets() -> None:
    assert Settings(environment="development").admin_token == "changethis"


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError, match="ADMIN_TOKEN must be set in production"):
        Settings(environment="production", secret_key="s3cret", stripe_webhook_secret="whsec_x")


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production", secret_key="a", admin_token="b", stripe_webhook_secret="c"
    )
    assert not settings.is_development
