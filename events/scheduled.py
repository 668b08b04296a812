"""The event a cron-triggered function receives, as Inngest's `inngest/scheduled.timer`."""

from typing import Literal

from events.envelope import CamelModel, Event


class ScheduledTimerData(CamelModel):
    cron: str


class ScheduledTimer(Event):
    name: Literal["inngest/scheduled.timer"] = "inngest/scheduled.timer"
    data: ScheduledTimerData
