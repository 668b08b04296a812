"""`step.sendEvent`: a workflow's events go into the same log, and through the same router, as
the API's."""

from pydantic import BaseModel, SerializeAsAny
from temporalio import activity

from inngest_temporal.catalog import InvalidEvent
from inngest_temporal.dispatcher import Dispatcher
from inngest_temporal.errors import NonRetriableError
from inngest_temporal.events import Event


class SendEventsInput(BaseModel):
    events: list[SerializeAsAny[Event]]


class EventActivities:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    @activity.defn(name="send-events")
    async def send_events(self, request: SendEventsInput) -> list[str]:
        # The payload arrives as base Events; re-validate into their typed models. An event the
        # application never declared will not become valid on a retry.
        catalog = self._dispatcher.router.registry.catalog
        try:
            events = [catalog.parse(e.to_json(), internal=True) for e in request.events]
        except InvalidEvent as err:
            raise NonRetriableError(str(err)) from None
        return (await self._dispatcher.post(events)).ids
