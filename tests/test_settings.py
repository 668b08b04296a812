"""Settings fail closed: production is the default, and it refuses to start with any secret
missing, a placeholder or too short, or with email and payments neither real nor explicitly
local; the API and the worker print one line per problem and exit."""

import runpy
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.main import create_app
from inngest_temporal.codec import generate_key
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "environment": "production",
    "secret_key": "k" * 16 + "-signing-key-0123456789",
    "admin_token": "a" * 16 + "-admin-token-0123456789",
    "event_key": "e" * 16 + "-event-key-0123456789abc",
    "payload_encryption_key": generate_key(),
    "resend_api_key": "re_live_0123456789",
    "stripe_secret_key": "sk_live_0123456789",
    "stripe_webhook_secret": "whsec_0123456789abcdef",
}


def problems(**changes: object) -> str:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({**GOOD, **changes})
    return str(refused.value)


def test_production_starts_with_real_secrets() -> None:
    assert Settings.model_validate(GOOD).environment == "production"


def test_production_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY must be set in production"):
        Settings(_env_file=None)


@pytest.mark.parametrize("setting", ["secret_key", "admin_token", "payload_encryption_key"])
def test_each_missing_secret_is_named(setting: str) -> None:
    assert f"{setting.upper()} must be set in production" in problems(**{setting: None})


@pytest.mark.parametrize("setting", ["secret_key", "admin_token", "event_key"])
def test_placeholders_and_short_values_are_not_secrets(setting: str) -> None:
    name = "EVENT_KEY/EVENT_KEYS" if setting == "event_key" else setting.upper()
    assert f"{name} is a placeholder" in problems(**{setting: "changethis" * 4})
    assert f"{name} is too short to be a secret" in problems(**{setting: "s3cret"})


def test_an_event_key_or_scoped_keys_are_required() -> None:
    assert "EVENT_KEY (or EVENT_KEYS) must be set" in problems(event_key=None)
    scoped = Settings.model_validate(
        {**GOOD, "event_key": None, "event_keys": {"x" * 40: ["user/*"]}}
    )
    assert scoped.event_keys
    assert "EVENT_KEY/EVENT_KEYS is too short" in problems(event_keys={"short": ["user/*"]})


def test_email_and_payments_are_real_or_explicitly_local() -> None:
    assert "RESEND_API_KEY must be set in production (or EMAIL_TRANSPORT=outbox)" in problems(
        resend_api_key=None
    )
    assert Settings.model_validate({**GOOD, "resend_api_key": None, "email_transport": "outbox"})
    text = problems(stripe_secret_key=None, stripe_webhook_secret=None)
    assert "STRIPE_SECRET_KEY must be set in production (or PAYMENTS=local)" in text
    assert "STRIPE_WEBHOOK_SECRET must be set in production (or PAYMENTS=local)" in text
    local = Settings.model_validate({**GOOD, "stripe_secret_key": None, "payments": "local"})
    assert not local.uses_stripe


def test_a_malformed_encryption_key_is_named_in_any_environment() -> None:
    with pytest.raises(ValidationError, match="PAYLOAD_ENCRYPTION_KEY entry 1 of 1 is not base64"):
        Settings(environment="development", payload_encryption_key="not a key!")


def test_development_runs_without_secrets_but_has_no_admin_token() -> None:
    settings = Settings(environment="development")
    assert settings.admin_token is None and settings.signing_key


def start_worker() -> None:
    runpy.run_path(str(ROOT / "worker.py"), run_name="__main__")  # `python worker.py`


def start_api() -> None:
    create_app()  # what `uvicorn --factory api.main:create_app` calls first


@pytest.mark.parametrize("start", [start_worker, start_api])
def test_the_worker_and_the_api_refuse_to_start_one_line_per_problem(
    start: Callable[[], None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process (the application is loaded already): a subprocess would spend seconds
    # importing it to prove the same exit status and lines (the processes the suite does start,
    # tests/processes.py, run worker.py with good settings).
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changethis")
    monkeypatch.setenv("EVENT_KEY", "short")
    with pytest.raises(SystemExit) as exited:
        start()
    assert exited.value.code == 2
    lines = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("configuration:")
    ]
    assert lines == [
        "configuration: SECRET_KEY is a placeholder: set a real secret",
        "configuration: ADMIN_TOKEN must be set in production",
        "configuration: PAYLOAD_ENCRYPTION_KEY must be set in production",
        "configuration: EVENT_KEY/EVENT_KEYS is too short to be a secret (at least 32 characters)",
        "configuration: RESEND_API_KEY must be set in production (or EMAIL_TRANSPORT=outbox)",
        "configuration: STRIPE_SECRET_KEY must be set in production (or PAYMENTS=local)",
        "configuration: STRIPE_WEBHOOK_SECRET must be set in production (or PAYMENTS=local)",
    ]
