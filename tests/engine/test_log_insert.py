"""Events reach the log the same whichever way they are inserted: one alone (on SQLite, straight
to the driver) or several together (SQLAlchemy Core), on both databases."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from inngest_temporal.log_insert import insert_new
from inngest_temporal.store import StoredEvent
from tests.engine.conftest import LogDatabase

RECEIVED = datetime(2026, 11, 29, 6, 22, 24, 801139, tzinfo=UTC)


def row(event_id: str, user: Any = None) -> dict[str, Any]:
    return {
        "id": event_id,
        "name": "user/signup.completed",
        "data": {"userId": "user_1", "email": "ada@example.com", "plan": "pro", "crm": None},
        "user": user,
        "ts": 1764400000000,
        "v": "2026-11-01",
        "received_at": RECEIVED,
        "lease_until": RECEIVED + timedelta(seconds=30),
        "attempts": 1,
    }


async def test_one_event_is_stored_as_several_are(log_db: LogDatabase) -> None:
    async with log_db.sessions() as sessions:
        async with sessions() as session, session.begin():
            assert await insert_new(session, [row("alone")]) == {"alone"}
            assert await insert_new(session, [row("first"), row("second")]) == {"first", "second"}
            with_user = [row("alone+user", {"id": 7})], [row("pair+user", {"id": 7}), row("x")]
            assert await insert_new(session, with_user[0]) == {"alone+user"}
            assert await insert_new(session, with_user[1]) == {"pair+user", "x"}
        async with sessions() as session:
            # As the database holds them: no column type reads them.
            stored = {
                r.id: r._asdict() for r in (await session.execute(text("SELECT * FROM events")))
            }
            events = {e.id: e for e in await session.scalars(select(StoredEvent))}

    def content(event_id: str) -> dict[str, Any]:
        return {k: v for k, v in stored[event_id].items() if k != "id"}

    # Column by column as the database holds them, and as the application reads them back.
    assert content("alone") == content("first")
    assert content("alone+user") == content("pair+user")
    assert events["alone"].payload() == {**events["first"].payload(), "id": "alone"}
    assert events["alone"].received_at == RECEIVED
    assert events["alone"].lease_until == RECEIVED + timedelta(seconds=30)
    assert events["alone+user"].user == {"id": 7}


async def test_an_event_already_in_the_log_is_not_new(log_db: LogDatabase) -> None:
    async with log_db.sessions() as sessions:
        async with sessions() as session, session.begin():
            await insert_new(session, [row("once"), row("twice")])
        async with sessions() as session, session.begin():
            assert await insert_new(session, [row("once")]) == set()
            assert await insert_new(session, [row("twice"), row("new")]) == {"new"}
        async with sessions() as session:
            count = len((await session.scalars(select(StoredEvent.id))).all())
    assert count == 3
