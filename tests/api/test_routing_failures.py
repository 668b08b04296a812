"""Accepted means stored: what the API accepted runs, once, whatever Temporal did at the time.
A start refused for one of a signup's four functions is retried by the dispatcher; a Temporal
that is down when a signup and an event arrive runs them once it is back."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.models import OutboxMessage, User
from inngest_temporal import Sessions
from inngest_temporal.store import StoredEvent
from settings import Settings
from tests.api.conftest import Api, running_api
from tests.support import eventually, make_worker, unique
from tests.temporal_faults import FailingStarts
from tests.temporal_server import TemporalDevServer

SIGNUP_FUNCTIONS = {
    "provision-account",
    "send-welcome-email",
    "onboarding-with-verification",
    "sync-to-crm",
}
# The signup functions that end on their own (the others wait for a click or a CRM).
FINISHING = ("provision-account", "send-welcome-email")


async def routed_runs(api: Api, event_id: str, done: tuple[str, ...] = FINISHING) -> Any:
    """The event's runs once it is routed and the `done` functions completed."""

    async def probe() -> dict[str, dict[str, Any]] | None:
        response = await api.http.get(f"/api/events/{event_id}")
        assert response.status_code == 200, response.text
        record = response.json()
        runs = {r["functionId"]: r for r in record["runs"]}
        finished = all(runs.get(f, {}).get("status") == "COMPLETED" for f in done)
        return runs if record["routed"] and finished else None

    return await eventually(probe, timeout=60)


async def count(sessions: Sessions, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).where(*where)) or 0)


@pytest.mark.long
async def test_a_refused_start_is_retried_one_run_each_and_one_user(
    dev_env: WorkflowEnvironment, db_url: str, any_sessions: Sessions, api_settings: Settings
) -> None:
    """On SQLite and on PostgreSQL (the dispatcher's retry claims with FOR UPDATE SKIP LOCKED)."""
    sessions = any_sessions
    settings = api_settings.model_copy(update={"database_url": db_url})
    faults = FailingStarts(workflows={"provision-account"}, times=1)
    client = faults.client(dev_env.client)
    async with running_api(settings, client, sessions, worker_client=dev_env.client) as api:
        email = f"{unique('once')}@example.com"
        response = await api.http.post(
            "/api/auth/signup", json={"email": email, "name": "Once", "plan": "pro"}
        )
        assert response.status_code == 201, response.text
        event_id = f"signup-{response.json()['userId']}"
        runs = await routed_runs(api, event_id)

    # The request's own routing met the refusal (or, on a machine too slow for the request's
    # routing timeout, the dispatcher did); either way it was refused once and started once.
    assert faults.failed == {f"provision-account-{event_id}": 1}
    assert set(runs) == SIGNUP_FUNCTIONS
    assert {r["action"] for r in runs.values()} == {"started"}
    assert {faults.started[r["workflowId"]] for r in runs.values()} == {1}
    assert await count(sessions, func.lower(User.email) == email) == 1
    welcome = OutboxMessage.subject.like("Welcome%")
    assert await count(sessions, OutboxMessage.recipient == email, welcome) == 1
    async with sessions() as session:
        stored = await session.get(StoredEvent, event_id)
    assert stored is not None and stored.attempts >= 2  # routed by the dispatcher's retry


@pytest.mark.long
async def test_signup_and_event_accepted_while_temporal_is_down_run_once_it_is_back(
    tmp_path: Path, fresh_database: tuple[str, Sessions], task_queue: str
) -> None:
    url, sessions = fresh_database
    # A request waits a second on the Temporal that is down, not five.
    settings = Settings(
        environment="development",
        database_url=url,
        task_queue=task_queue,
        route_timeout_seconds=1,
    )
    temporal = TemporalDevServer(tmp_path)
    await temporal.start()
    try:
        # Lazy, as the API's own: it connects on first use, and again after a failure.
        async with running_api(settings, await temporal.client(lazy=True), sessions) as api:
            assert (await api.http.get("/healthz")).json()["temporal"] == "ok"
            temporal.stop()

            email = f"{unique('down')}@example.com"
            signup = await api.http.post(
                "/api/auth/signup", json={"email": email, "name": "Down", "plan": "free"}
            )
            assert signup.status_code == 201, signup.text
            user_id = unique("user")
            event_email = f"{user_id}@example.com"
            event_id = unique("evt")
            event: dict[str, Any] = {
                "name": "user/signup.completed",
                "id": event_id,
                "data": {"userId": user_id, "email": event_email, "name": "Ev", "plan": "free"},
            }
            sent = await api.http.post("/api/events", json=event)
            assert (sent.status_code, sent.json()) == (
                202,
                {"ids": [event_id], "status": 202, "routed": False},
            )
            health = await api.http.get("/healthz")
            assert health.status_code == 200
            assert health.json()["database"] == "ok"
            assert health.json()["temporal"].startswith("unavailable")

            await temporal.start()
            worker_client = await temporal.client()
            async with make_worker(worker_client, sessions, task_queue, settings=settings):
                signup_runs = await routed_runs(api, f"signup-{signup.json()['userId']}")
                event_runs = await routed_runs(api, event_id)

        for runs in (signup_runs, event_runs):
            assert set(runs) == SIGNUP_FUNCTIONS
            for run in runs.values():
                history = worker_client.get_workflow_handle(run["workflowId"])
                starts = [
                    e
                    async for e in history.fetch_history_events()
                    if e.HasField("workflow_execution_started_event_attributes")
                ]
                assert len(starts) == 1, run
        # One welcome email each: nothing ran twice.
        welcome = OutboxMessage.subject.like("Welcome%")
        for recipient in (email, event_email):
            assert await count(sessions, OutboxMessage.recipient == recipient, welcome) == 1
        assert await count(sessions, func.lower(User.email) == email) == 1
    finally:
        temporal.stop()
