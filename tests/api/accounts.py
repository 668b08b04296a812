"""Shared steps of the account, billing and verification API tests: a signed-up user whose
pipelines run on the session's dev server, and polling the event log."""

from typing import Any

from sqlalchemy import select

from api.security import issue_access_token
from db.models import User
from inngest_temporal.store import StoredEvent
from tests.api.conftest import Api
from tests.support import eventually, unique


async def signup(api: Api, plan: str = "pro") -> str:
    response = await api.http.post(
        "/api/auth/signup",
        json={"email": f"{unique('ada')}@example.com", "name": "Ada", "plan": plan},
    )
    assert response.status_code == 201, response.text
    user_id: str = response.json()["userId"]
    return user_id


async def create_user(api: Api) -> User:
    """A user in the database only: no pipelines started."""
    user_id = unique("user")
    user = User(id=user_id, email=f"{user_id}@example.com", name="Ada", plan="pro")
    async with api.sessions() as session:
        session.add(user)
        await session.commit()
    return user


async def event_run(api: Api, event_id: str, function_id: str) -> dict[str, Any] | None:
    response = await api.http.get(f"/api/events/{event_id}")
    if response.status_code == 404:
        return None
    runs = [r for r in response.json()["runs"] if r["functionId"] == function_id]
    return runs[0] if runs else None


async def running_trial(api: Api, user_id: str) -> str:
    """The id of the user's `user/trial.started` event, once its trial run is running."""

    async def probe() -> str | None:
        async with api.sessions() as session:
            event_id = await session.scalar(
                select(StoredEvent.id).where(
                    StoredEvent.name == "user/trial.started",
                    StoredEvent.data["userId"].as_string() == user_id,
                )
            )
        if event_id is None:
            return None
        run = await event_run(api, event_id, "manage-trial-workflow")
        return event_id if run and run["status"] == "RUNNING" else None

    return await eventually(probe)


async def recorded(api: Api, event_id: str) -> bool:
    return (await api.http.get(f"/api/events/{event_id}")).status_code == 200


def as_user(api: Api, user_id: str) -> dict[str, str]:
    """The headers of the user's session (the access token sign-up or sign-in would give)."""
    return {"Authorization": f"Bearer {issue_access_token(api.settings, user_id)}"}
