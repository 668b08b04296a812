"""`/healthz` reports the database and Temporal separately. An API whose Temporal is down is
degraded, not down: it still accepts events (stored, routed later). An API whose database is
down answers 503 and says nothing was stored."""

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from inngest_temporal import Sessions, create_engine, session_factory
from settings import Settings
from tests.api.conftest import Api, running_api
from tests.conftest import free_port
from tests.support import unique


def signup_event() -> dict[str, object]:
    user_id = unique("user")
    return {
        "name": "user/signup.completed",
        "id": unique("evt"),
        "data": {"userId": user_id, "email": f"{user_id}@example.com", "name": "H", "plan": "free"},
    }


async def test_healthz_reports_database_and_temporal(api: Api) -> None:
    response = await api.http.get("/healthz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "temporal": "ok"},
    )


async def test_with_temporal_down_the_api_still_accepts_events(
    fresh_database: tuple[str, Sessions], task_queue: str
) -> None:
    url, sessions = fresh_database
    settings = Settings(environment="development", database_url=url, task_queue=task_queue)
    # Nothing listens on this port: the lazy client never connects.
    nowhere = await Client.connect(
        f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter
    )
    async with running_api(settings, nowhere, sessions) as api:
        health = await api.http.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["database"] == "ok"
        assert health.json()["temporal"].startswith("unavailable")

        event = signup_event()
        sent = await api.http.post("/api/events", json=event)
        assert (sent.status_code, sent.json()) == (
            202,
            {"ids": [event["id"]], "status": 202, "routed": False},
        )
        signup = await api.http.post(
            "/api/auth/signup", json={"email": f"{unique('h')}@example.com", "name": "H"}
        )
        assert signup.status_code == 201, signup.text
        record = await api.http.get(f"/api/events/{event['id']}")
        assert record.status_code == 200
        assert (record.json()["routed"], record.json()["runs"]) == (False, [])


async def test_with_the_database_down_the_api_says_nothing_was_stored(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    # Nothing listens on this port: every connection is refused.
    url = f"postgresql+asyncpg://app:app@127.0.0.1:{free_port()}/app"
    settings = Settings(environment="development", database_url=url, task_queue=task_queue)
    engine = create_engine(url)
    try:
        async with running_api(settings, dev_env.client, session_factory(engine)) as api:
            health = await api.http.get("/healthz")
            assert health.status_code == 503
            assert health.json()["status"] == "unavailable"
            assert health.json()["database"].startswith("unavailable")
            assert health.json()["temporal"] == "ok"

            for path, body in (
                ("/api/events", signup_event()),
                ("/api/auth/signup", {"email": f"{unique('h')}@example.com", "name": "H"}),
            ):
                response = await api.http.post(path, json=body)
                assert response.status_code == 503, (path, response.text)
                assert "nothing was stored" in response.json()["detail"]
            read = await api.http.get("/api/events/anything")
            assert read.status_code == 503
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True)
def _quiet_dispatcher(caplog: pytest.LogCaptureFixture) -> None:
    """The dispatcher's loop logs each failed pass; expected here."""
    caplog.set_level("CRITICAL", logger="inngest_temporal.dispatcher")
