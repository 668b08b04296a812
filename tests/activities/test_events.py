"""send-events (and the API) route through the router, which records every event in the event log:
an event's id and version are refused when longer than the log's columns."""

from typing import cast

import pytest
from temporalio.client import Client

from db.engine import Sessions
from db.models import EventRecord
from events.catalog import InvalidEvent, parse_event
from events.registry import Registry
from events.router import Router
from tests.support import unique


def signed_up(event_id: str, version: str) -> dict[str, object]:
    return {
        "name": "user/signed-up",
        "id": event_id,
        "v": version,
        "data": {"userId": unique("user"), "email": "ada@example.com", "name": "Ada"},
    }


async def test_the_longest_id_and_version_are_recorded(sessions: Sessions) -> None:
    # No function is registered: the router records the event and calls nothing in Temporal.
    router = Router(cast(Client, None), sessions, "unused", Registry(functions=()))
    event_id, version = unique("evt").ljust(120, "x"), "v" * 50

    assert await router.send([parse_event(signed_up(event_id, version))]) == [event_id]

    async with sessions() as session:
        recorded = await session.get(EventRecord, event_id)
    assert recorded is not None and recorded.v == version


@pytest.mark.parametrize(
    ("event_id", "version"), [("x" * 121, "v"), ("evt", "v" * 51)], ids=["id", "version"]
)
def test_a_longer_id_or_version_is_refused(event_id: str, version: str) -> None:
    with pytest.raises(InvalidEvent, match="at most"):
        parse_event(signed_up(event_id, version))
