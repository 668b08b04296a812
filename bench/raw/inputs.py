"""The raw rendition's workflow inputs: what a hand-written service passes, not an event
envelope. `split` rides along so one worker serves both modes (see bench/raw/steps.py)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

TrialStart = Literal["child", "activity"]


class SignupInput(BaseModel):
    user_id: str
    email: str
    name: str
    plan: str
    crm_provider: str = "default"
    split: bool = False
    trial: TrialStart = "activity"


class TrialInput(BaseModel):
    user_id: str
    trial_end_date: datetime
    split: bool = False
