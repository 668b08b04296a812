"""The event log holds what the envelope allows: the longest id and version are stored on both
databases, and a longer one is refused before anything is stored."""

from typing import cast

import pytest
from temporalio.client import Client

from inngest_temporal import Dispatcher, InvalidEvent, Registry, Router, Sessions
from inngest_temporal.store import StoredEvent
from tests.support import unique

CATALOG = Registry([], []).catalog


def signed_up(event_id: str, version: str) -> dict[str, object]:
    return {
        "name": "inngest/scheduled.timer",
        "id": event_id,
        "v": version,
        "data": {"cron": "0 9 * * *"},
    }


async def test_the_longest_id_and_version_are_stored(sessions: Sessions) -> None:
    # No function listens: the event is stored and routing calls nothing in Temporal.
    dispatcher = Dispatcher(sessions, Router(cast(Client, None), "unused", Registry([])))
    event_id, version = unique("evt").ljust(256, "x"), "v" * 256

    accepted, routed = await dispatcher.send(
        [CATALOG.parse(signed_up(event_id, version), internal=True)]
    )

    assert accepted.ids == [event_id] and routed
    async with sessions() as session:
        stored = await session.get(StoredEvent, event_id)
    assert stored is not None and stored.v == version and stored.routed_at is not None


@pytest.mark.parametrize(
    ("event_id", "version"), [("x" * 257, "v"), ("evt", "v" * 257)], ids=["id", "version"]
)
def test_a_longer_id_or_version_is_refused(event_id: str, version: str) -> None:
    with pytest.raises(InvalidEvent, match="at most 256"):
        CATALOG.parse(signed_up(event_id, version), internal=True)
