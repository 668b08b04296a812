"""Helpers the tests share: workers with the application's real activities (some replaced by
fakes), a sender of events through the event log, unique ids."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import Client

from application import build_activities, build_dispatcher, build_registry
from inngest_temporal import Dispatcher, Event, Registry, Sessions, worker_with_fakes
from inngest_temporal.testing import activity_name, step_ids, step_times
from inngest_temporal.worker import Workers
from settings import Settings

__all__ = ["activity_name", "step_ids", "step_times"]

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 30) -> T:
    """The probe's first truthy answer, polled every 0.1 s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await probe()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def test_settings(**overrides: Any) -> Settings:
    return Settings(**{"environment": "test", **overrides})


def dispatcher_for(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    settings: Settings | None = None,
    registry: Registry | None = None,
) -> Dispatcher:
    settings = (settings or test_settings()).model_copy(update={"task_queue": task_queue})
    return build_dispatcher(client, sessions, settings, registry or build_registry(settings))


class Sender:
    """Sends events the way the API does: stored in the log, then routed."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def send(self, events: list[Event]) -> list[str]:
        accepted, _ = await self.dispatcher.send(events)
        return accepted.ids


def sender(client: Client, sessions: Sessions, task_queue: str) -> Sender:
    return Sender(dispatcher_for(client, sessions, task_queue))


def make_worker(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    *,
    settings: Settings | None = None,
    fakes: list[Callable[..., Any]] = (),  # type: ignore[assignment]
    registry: Registry | None = None,
    **options: Any,
) -> Workers:
    """A worker with the real activities, except those replaced by a fake of the same name."""
    settings = settings or test_settings()
    return worker_with_fakes(
        client,
        dispatcher_for(client, sessions, task_queue, settings, registry),
        task_queue,
        build_activities(sessions, settings),
        fakes,
        **{"build_id": settings.worker_build_id, **options},
    )
