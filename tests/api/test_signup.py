"""Sign-up end to end: the API, the router's fan-out, both pipelines, the database and outbox."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from db.models import AnalyticsEvent, OutboxMessage, User, Workspace, WorkspaceSetting
from inngest_temporal.store import StoredEvent
from tests.api.conftest import Api
from tests.support import step_ids, unique

# Signup's short pipelines; others it starts (verification, CRM sync) wait or run on their own.
PIPELINES = ("provision-account", "send-welcome-email")


async def wait_for_runs(api: Api, event_id: str, timeout: float = 30) -> dict[str, dict[str, Any]]:
    """Poll the event log until the signup pipelines' runs have completed; runs by function id."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.http.get(f"/api/events/{event_id}")
        assert response.status_code == 200, response.text
        runs = {r["functionId"]: r for r in response.json()["runs"]}
        if all(runs.get(f, {}).get("status") == "COMPLETED" for f in PIPELINES):
            return runs
        assert asyncio.get_running_loop().time() < deadline, runs
        await asyncio.sleep(0.2)


async def test_signup_runs_both_pipelines_and_records_everything(api: Api) -> None:
    email = f"{unique('ada')}@example.com"
    response = await api.http.post(
        "/api/auth/signup", json={"email": email, "name": "Ada", "plan": "pro"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "created"
    user_id = body["userId"]

    runs = await wait_for_runs(api, f"signup-{user_id}")
    listeners = api.app.state.services.registry.triggered_by["user/signup.completed"]
    assert set(runs) == {f.id for f in listeners}

    async with api.sessions() as session:
        user = (await session.scalars(select(User).where(User.id == user_id))).one()
        workspace = (
            await session.scalars(select(Workspace).where(Workspace.user_id == user_id))
        ).one()
        settings_count = await session.scalar(
            select(func.count()).where(WorkspaceSetting.workspace_id == workspace.id)
        )
        email_row = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.recipient == email,
                    OutboxMessage.subject == "Welcome to SaaS App, Ada!",
                )
            )
        ).one()
        tracked = (
            await session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.user_id == user_id))
        ).one()
        trial = (
            await session.scalars(
                select(StoredEvent).where(
                    StoredEvent.name == "user/trial.started",
                    StoredEvent.data["userId"].as_string() == user_id,
                )
            )
        ).one()
    assert (user.name, user.plan) == ("Ada", "pro")
    assert workspace.name == "Ada's Workspace"
    assert settings_count == 3
    assert (
        "Welcome to SaaS App, Ada!" in email_row.body and "<strong>pro</strong>" in email_row.body
    )
    assert email_row.transport == "outbox"
    assert tracked.name == "welcome_email_sent"
    trial_end = datetime.fromisoformat(trial.data["trialEndDate"].replace("Z", "+00:00"))
    assert abs(trial_end - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=5)

    outbox = (await api.http.get("/api/dev/outbox", params={"to": email})).json()
    welcome = [m for m in outbox if m["subject"] == "Welcome to SaaS App, Ada!"]
    assert len(welcome) == 1 and welcome[0]["idempotencyKey"].endswith("/send-email")


async def test_a_users_last_activity_is_their_signup_then_any_event_about_them(api: Api) -> None:
    """What the churn report reads: the signup stamps it, and any accepted event carrying the
    user's id moves it (the engine's hook, in the event's own transaction)."""

    async def last_active(user_id: str) -> datetime | None:
        async with api.sessions() as session:
            return await session.scalar(select(User.last_active_at).where(User.id == user_id))

    response = await api.http.post(
        "/api/auth/signup", json={"email": f"{unique('act')}@example.com", "name": "Act"}
    )
    user_id = response.json()["userId"]
    stamped = await last_active(user_id)
    assert stamped is not None and datetime.now(UTC) - stamped < timedelta(minutes=1)

    long_ago = datetime.now(UTC) - timedelta(days=3)
    async with api.sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == user_id).values(last_active_at=long_ago)
        )
    sent = await api.http.post(
        "/api/events", json={"name": "user/signed-in", "data": {"userId": user_id}}
    )
    assert sent.status_code == 200, sent.text
    moved = await last_active(user_id)
    assert moved is not None and datetime.now(UTC) - moved < timedelta(minutes=1)


async def test_signup_steps_are_visible_by_their_seed_ids(api: Api) -> None:
    response = await api.http.post(
        "/api/auth/signup", json={"email": f"{unique('grace')}@example.com", "name": "Grace"}
    )
    user_id = response.json()["userId"]
    runs = await wait_for_runs(api, f"signup-{user_id}")

    def run(function_id: str) -> WorkflowHandle[Any, Any]:
        return api.client.get_workflow_handle(runs[function_id]["workflowId"])

    assert await step_ids(run("provision-account")) == [
        "create-user-record",
        "create-workspace",
        "seed-defaults",
        "start-trial",
    ]
    assert await step_ids(run("send-welcome-email")) == [
        "render-template",
        "send-email",
        "track-analytics",
    ]


async def test_existing_email_gets_409_and_starts_nothing(api: Api) -> None:
    email = f"{unique('dup')}@example.com"
    first = await api.http.post("/api/auth/signup", json={"email": email, "name": "Dup"})
    assert first.status_code == 201
    second = await api.http.post("/api/auth/signup", json={"email": email.upper(), "name": "Dup"})
    assert second.status_code == 409
    assert email in second.json()["detail"]
    async with api.sessions() as session:
        events = await session.scalar(
            select(func.count()).where(
                StoredEvent.name == "user/signup.completed",
                StoredEvent.data["email"].as_string() == email,
            )
        )
    assert events == 1


async def test_signup_with_bad_input_is_rejected(api: Api) -> None:
    response = await api.http.post("/api/auth/signup", json={"email": "not-an-email", "name": ""})
    assert response.status_code == 422
    fields = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "email") in fields and ("body", "name") in fields


async def test_run_status_shows_in_event_log(api: Api) -> None:
    response = await api.http.post(
        "/api/auth/signup", json={"email": f"{unique('lin')}@example.com", "name": "Lin"}
    )
    runs = await wait_for_runs(api, f"signup-{response.json()['userId']}")
    for function_id in PIPELINES:
        handle = api.client.get_workflow_handle(runs[function_id]["workflowId"])
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
