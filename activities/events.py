"""`step.sendEvent`: a workflow sends events through the same router as the API."""

from pydantic import BaseModel, SerializeAsAny
from temporalio import activity

from events.catalog import parse_event
from events.envelope import Event
from events.router import Router


class SendEventsInput(BaseModel):
    events: list[SerializeAsAny[Event]]


class EventActivities:
    def __init__(self, router: Router) -> None:
        self._router = router

    @activity.defn
    async def send_events(self, request: SendEventsInput) -> list[str]:
        # The payload arrives as base Events; re-validate into their typed models.
        events = [parse_event(e.to_json()) for e in request.events]
        return await self._router.send(events)
