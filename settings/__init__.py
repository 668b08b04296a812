"""All configuration in one place, read from the environment (and `.env`).

Production is the default and fails closed: the API and the worker refuse to start, with one
line per problem naming the setting, unless every secret is set, not a placeholder and long
enough, and email and payments are real or explicitly local. `make dev` and the tests say
ENVIRONMENT=development / test."""

import sys
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from inngest_temporal import FunctionOverride
from inngest_temporal.codec import EncryptionKey, parse_keys

MIN_SECRET_LENGTH = 32
# Values seen in examples and templates: never secrets, whatever their length.
PLACEHOLDERS = ("changethis", "change-me", "changeme", "replace-me", "placeholder", "example")
# Signs tokens where no SECRET_KEY is set; refused in production.
DEVELOPMENT_SECRET = "development-only-secret-never-used-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "production"
    database_url: str = "sqlite+aiosqlite:///.data/app.db"
    public_base_url: str = "http://127.0.0.1:8000"

    # Temporal's own connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key,
    # profiles) are read by temporalio.envconfig, exactly as the Temporal CLI reads them.
    task_queue: str = "pipelines"
    # Comma-separated base64 AES-256 keys, newest first (python -m inngest_temporal.codec).
    payload_encryption_key: str | None = None

    # Event API: EVENT_KEY may send any event; EVENT_KEYS='{"<key>": ["user/*", "order/created"]}'
    # gives a key only the names it lists.
    event_key: str | None = None
    event_keys: dict[str, list[str]] = Field(default_factory=dict)
    max_body_bytes: int = Field(default=3 * 1024 * 1024, gt=0)
    max_events_per_request: int = Field(default=5000, gt=0)
    max_event_bytes: int = Field(default=256 * 1024, gt=0)
    router_max_in_flight: int = 200
    # How long a request waits on Temporal to route what it stored before answering with the
    # events stored and leaving their routing to the dispatcher's loop (Temporal slow or down).
    route_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # How often a process writes down what it routed (GET /api/events/{id} on another process
    # shows an event's runs within that); each write is a transaction, so not every request.
    routing_record_seconds: float = Field(default=15.0, gt=0, le=25)
    # e.g. FUNCTION_OVERRIDES=
    #   '{"send-welcome-email": {"throttle": {"limit": 3, "period_seconds": 2}}}'
    function_overrides: dict[str, FunctionOverride] = Field(default_factory=dict)

    # Who is who: our own signed tokens (SECRET_KEY), staff (ADMIN_TOKEN, or a user whose email
    # is in ADMIN_EMAILS), or a team's identity provider (OIDC).
    secret_key: str | None = None
    admin_token: str | None = None
    admin_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    access_token_minutes: int = Field(default=24 * 60, gt=0)
    sign_in_link_minutes: int = Field(default=15, gt=0)
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    # The Temporal Web UI's origins, allowed to call the codec server from the browser.
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8233", "http://localhost:8233"]
    )

    # Email: Resend when a key is set (or EMAIL_TRANSPORT=resend), the local outbox otherwise
    # (production must say EMAIL_TRANSPORT=outbox to mean it).
    email_transport: Literal["resend", "outbox"] | None = None
    resend_api_key: str | None = None
    resend_api_url: str = "https://api.resend.com"
    email_from: str = "SaaS App <hello@example.com>"

    # Payments: Stripe when a key is set, otherwise recorded locally (production must say
    # PAYMENTS=local to mean it, and even then no refund reports success without Stripe).
    payments: Literal["stripe", "local"] | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_price_pro: str = "price_pro"
    stripe_price_enterprise: str = "price_enterprise"

    # Team notifications and integrations; unset means "record locally in the outbox".
    slack_webhook_url: str | None = None
    crm_webhook_urls: dict[str, str] = Field(default_factory=dict)
    fulfillment_url: str | None = None
    # Without FULFILLMENT_URL, the built-in local provider takes this long per order (within the
    # submit-fulfillment step's 3-minute timeout).
    fulfillment_local_seconds: float = Field(default=5.0, ge=0, le=150)
    # How long a refund decision's request waits for the process-refund run to apply it before
    # answering 202 (the decision is stored and will be applied; GET the refund to follow it).
    refund_decision_wait_seconds: float = Field(default=5.0, ge=0, le=30)

    schedule_time_zone: str = "UTC"
    # False for a worker that must leave Schedules alone: a server without them (the
    # time-skipping test server), or every worker but one in a large deployment.
    manage_schedules: bool = True
    # Runs a worker keeps in memory between their tasks (sticky execution). 0: every task is
    # replayed from history by any worker (less memory, more CPU; no sticky queue to time out).
    # Each cached run holds a sandbox (~150 KB): 500 keep a worker under 300 MB (measured 246 MB
    # with 5,000 trials asleep, 305 MB with 1,000). Raise it when more runs are busy at once.
    worker_max_cached_workflows: int = Field(default=500, ge=0)
    # What the worker reports to Temporal with each task it completes (the Web UI shows it on
    # each workflow task; a batch reset can pick the runs a bad build touched): the release, a
    # git sha or an image tag. Unset: the SDK hashes the bytecode of every loaded module, half a
    # second of CPU at each start.
    worker_build_id: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("admin_emails", "codec_cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("admin_emails")
    @classmethod
    def _lowercase(cls, value: list[str]) -> list[str]:
        return [email.lower() for email in value]

    @model_validator(mode="after")
    def _fail_closed_in_production(self) -> "Settings":
        problems = self.production_problems() if self.environment == "production" else []
        if self.auth_jwks_url and not (self.auth_issuer and self.auth_audience):
            problems.append("AUTH_ISSUER and AUTH_AUDIENCE must be set with AUTH_JWKS_URL")
        if self.payload_encryption_key:
            try:
                parse_keys(self.payload_encryption_key)
            except ValueError as err:
                problems.append(str(err))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def production_problems(self) -> list[str]:
        problems = [
            problem
            for name, value in (
                ("SECRET_KEY", self.secret_key),
                ("ADMIN_TOKEN", self.admin_token),
                ("PAYLOAD_ENCRYPTION_KEY", self.payload_encryption_key),
            )
            if (problem := _secret_problem(name, value))
        ]
        if not self.event_key and not self.event_keys:
            problems.append("EVENT_KEY (or EVENT_KEYS) must be set in production")
        keys = ([self.event_key] if self.event_key else []) + list(self.event_keys)
        problems += [p for key in keys if (p := _secret_problem("EVENT_KEY/EVENT_KEYS", key))]
        if not self.resend_api_key and self.email_transport != "outbox":
            problems.append("RESEND_API_KEY must be set in production (or EMAIL_TRANSPORT=outbox)")
        if self.payments != "local":
            if not self.stripe_secret_key:
                problems.append("STRIPE_SECRET_KEY must be set in production (or PAYMENTS=local)")
            if problem := _secret_problem("STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret, 16):
                problems.append(problem + " (or PAYMENTS=local)")
        return problems

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def signing_key(self) -> str:
        return self.secret_key or DEVELOPMENT_SECRET

    @property
    def uses_resend(self) -> bool:
        return bool(self.resend_api_key) and self.email_transport != "outbox"

    @property
    def uses_stripe(self) -> bool:
        return bool(self.stripe_secret_key) and self.payments != "local"

    @property
    def encryption_keys(self) -> list[EncryptionKey] | None:
        return parse_keys(self.payload_encryption_key) if self.payload_encryption_key else None


def _secret_problem(name: str, value: str | None, minimum: int = MIN_SECRET_LENGTH) -> str | None:
    if not value:
        return f"{name} must be set in production"
    if any(p in value.lower() for p in PLACEHOLDERS):
        return f"{name} is a placeholder: set a real secret"
    if name != "PAYLOAD_ENCRYPTION_KEY" and len(value) < minimum:
        return f"{name} is too short to be a secret (at least {minimum} characters)"
    return None


def load_settings() -> Settings:
    """The process's settings; on a problem, one line per problem on stderr and exit 2 (the API
    and the worker refuse to start rather than run open)."""
    try:
        return Settings()
    except ValidationError as err:
        for error in err.errors():
            where = ".".join(str(p) for p in error["loc"])
            for line in str(error["msg"]).removeprefix("Value error, ").splitlines():
                print(
                    f"configuration: {where.upper() + ': ' if where else ''}{line}", file=sys.stderr
                )
        raise SystemExit(2) from None
