"""Events about users and their lifecycle."""

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from events.envelope import CamelModel, Event

Plan = Literal["free", "pro", "enterprise"]
PaidPlan = Literal["pro", "enterprise"]


class SignupCompletedData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    plan: Plan
    crm_provider: str | None = Field(default=None, max_length=50)


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
    email: EmailStr | None = None


class EmailVerified(Event):
    name: Literal["user/email.verified"] = "user/email.verified"
    data: EmailVerifiedData


class SignedUpData(CamelModel):
    user_id: str = Field(min_length=1, max_length=64)
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)


class SignedUp(Event):
    """The drip sequence's trigger (second seed document)."""

    name: Literal["user/signed-up"] = "user/signed-up"
    data: SignedUpData
