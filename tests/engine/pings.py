"""Small functions for the engine's tests: one event, a function per event id and a keyed one
(one run per key at a time). They return the id of the event that started them."""

from typing import Literal

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from inngest_temporal import CamelModel, Event, Pipeline, Registry, function


class PingData(CamelModel):
    key: str = Field(min_length=1, max_length=64)


class Ping(Event):
    name: Literal["test/ping"] = "test/ping"
    data: PingData


@function(id="test-ping", trigger=Ping, retries=0)
class PingFunction(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> str:
        return event.id


@function(id="test-ping-keyed", trigger=Ping, key="data.key", retries=0)
class KeyedPingFunction(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> str:
        return event.id


def ping_registry() -> Registry:
    return Registry([PingFunction, KeyedPingFunction])


def ping(event_id: str, key: str) -> Ping:
    return Ping(id=event_id, data=PingData(key=key))
