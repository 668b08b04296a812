"""Events about users and their lifecycle."""

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator

from events.fields import Email
from inngest_temporal import CamelModel, Event

Plan = Literal["free", "pro", "enterprise"]
PaidPlan = Literal["pro", "enterprise"]
DEFAULT_CRM_PROVIDER = "default"


class SignupCompletedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: Email = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    plan: Plan
    # Absent or null means the "default" provider: one name, so absent and "default" share one
    # concurrency limit and one webhook URL (settings.crm_webhook_urls["default"]).
    crm_provider: str = Field(default=DEFAULT_CRM_PROVIDER, min_length=1, max_length=50)

    @field_validator("crm_provider", mode="before")
    @classmethod
    def _absent_provider_is_default(cls, value: object) -> object:
        return DEFAULT_CRM_PROVIDER if value is None else value


class SignupCompleted(Event):
    name: Literal["user/signup.completed"] = "user/signup.completed"
    data: SignupCompletedData


class TrialStartedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    trial_end_date: datetime

    @field_validator("trial_end_date")
    @classmethod
    def _in_utc_when_no_offset(cls, value: datetime) -> datetime:
        # The trial's timers are computed from it: a date without an offset is taken as UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class TrialStarted(Event):
    name: Literal["user/trial.started"] = "user/trial.started"
    data: TrialStartedData


class EmailVerifiedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: Email | None = Field(default=None, max_length=254)


class EmailVerified(Event):
    name: Literal["user/email.verified"] = "user/email.verified"
    data: EmailVerifiedData


class SignedUpData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: Email = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)


class SignedUp(Event):
    """The drip sequence's trigger (second seed document)."""

    name: Literal["user/signed-up"] = "user/signed-up"
    data: SignedUpData


class SignInRequestedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: Email


class SignInRequested(Event):
    """Someone asked for a sign-in link for this account (POST /api/auth/login)."""

    name: Literal["user/sign-in.requested"] = "user/sign-in.requested"
    data: SignInRequestedData


class SignedInData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)


class SignedIn(Event):
    """A sign-in link was used; its id is the link's, so a link signs in once."""

    name: Literal["user/signed-in"] = "user/signed-in"
    data: SignedInData


class OnboardingCompletedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)


class OnboardingCompleted(Event):
    """The user finished the product's onboarding (the app's checklist, or its own API):
    `users.onboarding_completed` is set, and the drip's day-1 tips are skipped."""

    name: Literal["user/onboarding.completed"] = "user/onboarding.completed"
    data: OnboardingCompletedData
