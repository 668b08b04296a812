"""Onboarding completed, end to end: `POST /api/me/onboarding/complete` or the event
`user/onboarding.completed` through the event API set the flag, and the drip, a real run on a
time-skipping server, skips its day-1 tips. Nothing here writes the flag itself."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from db.models import User
from tests.api.accounts import as_user, create_user, event_run
from tests.api.conftest import Api
from tests.shop import emails_to
from tests.support import eventually, unique
from workflows.onboarding_drip_sequence import DripOutcome

TIPS = "3 tips to get the most out of your first week"


async def start_drip(api: Api, user: User) -> str:
    """`user/signed-up` through the event API; the drip's run id."""
    event_id = unique("signed-up")
    response = await api.http.post(
        "/api/events",
        json={
            "name": "user/signed-up",
            "id": event_id,
            "data": {"userId": user.id, "email": user.email, "name": user.name},
        },
    )
    assert response.status_code == 200, response.text
    run = await eventually(lambda: event_run(api, event_id, "onboarding-drip-sequence"))
    # The welcome email is out: the run is asleep until day 1.
    await eventually(lambda: emails_to(api.sessions, user.email))
    return str(run["workflowId"])


async def drip_outcome(api: Api, env: WorkflowEnvironment, workflow_id: str) -> DripOutcome:
    await env.sleep(timedelta(days=8))
    handle = api.client.get_workflow_handle(workflow_id, result_type=DripOutcome)
    outcome: DripOutcome = await handle.result()
    return outcome


async def completed(api: Api, user: User) -> bool:
    async with api.sessions() as session:
        flag = await session.scalar(select(User.onboarding_completed).where(User.id == user.id))
    return bool(flag)


async def test_completing_onboarding_through_the_api_skips_the_day_1_tips(
    skipping_api: Api, skipping_env: WorkflowEnvironment
) -> None:
    api = skipping_api
    user = await create_user(api)
    drip = await start_drip(api, user)

    response = await api.http.post("/api/me/onboarding/complete", headers=as_user(api, user.id))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "userId": user.id,
        "onboardingCompleted": True,
        "eventId": f"onboarding-completed-{user.id}",
    }
    assert await completed(api, user)
    again = await api.http.post("/api/me/onboarding/complete", headers=as_user(api, user.id))
    assert again.status_code == 200
    outcome = await drip_outcome(api, skipping_env, drip)
    tips = outcome.emails["send-day-1-tips"]
    assert (tips.sent, tips.skipped_because) == (False, "onboarding completed")
    subjects = [e.subject for e in await emails_to(api.sessions, user.email)]
    assert TIPS not in subjects and len(subjects) == 3


async def test_the_onboarding_completed_event_sets_the_flag_and_skips_the_tips(
    skipping_api: Api, skipping_env: WorkflowEnvironment
) -> None:
    api = skipping_api
    user = await create_user(api)
    drip = await start_drip(api, user)
    assert not await completed(api, user)

    response = await api.http.post(
        "/api/events",
        json={
            "name": "user/onboarding.completed",
            "id": unique("done"),
            "data": {"userId": user.id},
        },
    )

    assert response.status_code == 200, response.text
    [event_id] = response.json()["ids"]

    async def marked() -> dict[str, Any] | None:
        run = await event_run(api, event_id, "mark-onboarding-completed")
        return run if run and run["status"] == "COMPLETED" else None

    await eventually(marked)
    assert await completed(api, user)
    outcome = await drip_outcome(api, skipping_env, drip)
    assert outcome.emails["send-day-1-tips"].skipped_because == "onboarding completed"


async def test_completing_onboarding_is_for_the_signed_in_user(skipping_api: Api) -> None:
    api = skipping_api
    anonymous = await api.http.post("/api/me/onboarding/complete")
    gone = await api.http.post("/api/me/onboarding/complete", headers=as_user(api, "user_nobody"))

    assert anonymous.status_code == 401
    assert "sign in first" in anonymous.json()["detail"]
    assert (gone.status_code, gone.json()["detail"]) == (
        401,
        "the account for this token no longer exists",
    )
