"""Events about users and their lifecycle."""

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field, field_validator

from inngest_temporal import CamelModel, Event

Plan = Literal["free", "pro", "enterprise"]
PaidPlan = Literal["pro", "enterprise"]
DEFAULT_CRM_PROVIDER = "default"


class SignupCompletedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: EmailStr = Field(max_length=254)
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


class TrialStarted(Event):
    name: Literal["user/trial.started"] = "user/trial.started"
    data: TrialStartedData


class EmailVerifiedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: EmailStr | None = Field(default=None, max_length=254)


class EmailVerified(Event):
    name: Literal["user/email.verified"] = "user/email.verified"
    data: EmailVerifiedData


class SignedUpData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: EmailStr = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)


class SignedUp(Event):
    """The drip sequence's trigger (second seed document)."""

    name: Literal["user/signed-up"] = "user/signed-up"
    data: SignedUpData
