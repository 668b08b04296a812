"""All configuration in one place, read from the environment (and `.env`)."""

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inngest_temporal import FunctionOverride

DEV_PLACEHOLDER = "changethis"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///.data/app.db"
    public_base_url: str = "http://127.0.0.1:8000"

    # Temporal's own connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key,
    # profiles) are read by temporalio.envconfig, exactly as the Temporal CLI reads them.
    task_queue: str = "pipelines"

    # Event API
    event_key: str | None = None
    # Scoped producer keys: {"<key>": ["user/*", "order/created"]}
    event_keys: dict[str, list[str]] = Field(default_factory=dict)
    max_body_bytes: int = 3 * 1024 * 1024
    max_events_per_request: int = 5000
    max_event_bytes: int = 256 * 1024
    router_max_in_flight: int = 200
    # e.g. FUNCTION_OVERRIDES=
    #   '{"send-welcome-email": {"throttle": {"limit": 3, "period_seconds": 2}}}'
    function_overrides: dict[str, FunctionOverride] = Field(default_factory=dict)

    # Email: Resend when a key is set, otherwise the local outbox.
    resend_api_key: str | None = None
    resend_api_url: str = "https://api.resend.com"
    email_from: str = "SaaS App <hello@example.com>"

    # Stripe: real API when a key is set, otherwise billing is recorded locally.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str = DEV_PLACEHOLDER
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

    # Secrets: development may use the placeholder, production refuses to start with it.
    secret_key: str = DEV_PLACEHOLDER
    admin_token: str = DEV_PLACEHOLDER

    schedule_time_zone: str = "UTC"
    # False for a worker that must leave Schedules alone: a server without them (the
    # time-skipping test server), or every worker but one in a large deployment.
    manage_schedules: bool = True
    # Runs a worker keeps in memory between their tasks (sticky execution). 0: every task is
    # replayed from history by any worker (less memory, more CPU; no sticky queue to time out).
    worker_max_cached_workflows: int = Field(default=1000, ge=0)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> "Settings":
        if self.environment == "production":
            for name in ("secret_key", "admin_token", "stripe_webhook_secret"):
                if getattr(self, name) == DEV_PLACEHOLDER:
                    raise ValueError(f"{name.upper()} must be set in production")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment != "production"


settings = Settings()
