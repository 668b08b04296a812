"""`GET /api/auth/verify`: the link in the verification email, end to end on the dev server."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import select

from auth.tokens import issue_token
from db.models import OutboxMessage, User
from tests.api.accounts import create_user, event_run, recorded, signup
from tests.api.conftest import Api
from tests.support import eventually


async def verification_link(api: Api, user_id: str) -> str:
    """The path and query of the link in the user's verification email."""

    async def probe() -> str | None:
        async with api.sessions() as session:
            user = await session.get(User, user_id)
            assert user is not None
            body = await session.scalar(
                select(OutboxMessage.body).where(
                    OutboxMessage.recipient == user.email,
                    OutboxMessage.subject == "Verify your email",
                )
            )
        return body.split('href="')[1].split('"')[0].replace("&amp;", "&") if body else None

    link = urlparse(await eventually(probe))
    return f"{link.path}?{link.query}"


async def reload(api: Api, user_id: str) -> User:
    async with api.sessions() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


async def test_clicking_the_emailed_link_verifies_and_activates_full_access(api: Api) -> None:
    user_id = await signup(api)
    link = await verification_link(api, user_id)
    assert link.startswith("/api/auth/verify?token=")

    response = await api.http.get(link)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "verified"
    run = await event_run(api, f"email-verified-{user_id}", "onboarding-with-verification")
    assert run is not None and run["action"] == "signalled"

    async def completed() -> bool:
        run = await event_run(api, f"email-verified-{user_id}", "onboarding-with-verification")
        return bool(run and run["status"] == "COMPLETED")

    await eventually(completed)
    user = await reload(api, user_id)
    assert user.full_access is True
    assert user.email_verified_at is not None
    result = await api.client.get_workflow_handle(run["workflowId"]).result()
    assert result == {"status": "verified", "activated": True}


async def test_a_used_link_gets_409_and_is_not_routed_again(api: Api) -> None:
    user_id = await signup(api)
    link = await verification_link(api, user_id)
    assert (await api.http.get(link)).status_code == 200

    again = await api.http.get(link)

    assert again.status_code == 409
    assert "already verified" in again.json()["detail"]


async def test_link_of_an_already_verified_user_gets_409(api: Api) -> None:
    user = await create_user(api)
    async with api.sessions() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.email_verified_at = datetime.now(UTC)
        await session.commit()
    token = issue_token(
        api.settings.signing_key,
        "email-verification",
        user.id,
        datetime.now(UTC) + timedelta(hours=1),
    )

    response = await api.http.get("/api/auth/verify", params={"token": token})

    assert response.status_code == 409
    assert not await recorded(api, f"email-verified-{user.id}")


async def test_bad_signature_gets_400_and_nothing_is_sent(api: Api) -> None:
    user = await create_user(api)
    forged = issue_token(
        "not-our-key", "email-verification", user.id, datetime.now(UTC) + timedelta(hours=1)
    )

    response = await api.http.get("/api/auth/verify", params={"token": forged})

    assert response.status_code == 400
    assert "signature" in response.json()["detail"]
    assert not await recorded(api, f"email-verified-{user.id}")
    assert (await reload(api, user.id)).email_verified_at is None


async def test_malformed_token_gets_400(api: Api) -> None:
    for token in ("garbage", "a.b.c", "!!!.???"):
        response = await api.http.get("/api/auth/verify", params={"token": token})
        assert response.status_code == 400, token
        assert "token" in response.json()["detail"]
    missing = await api.http.get("/api/auth/verify")
    assert missing.status_code == 422


async def test_expired_token_gets_410_naming_the_expiry_and_nothing_is_sent(api: Api) -> None:
    user = await create_user(api)
    expired = issue_token(
        api.settings.signing_key,
        "email-verification",
        user.id,
        datetime.now(UTC) - timedelta(minutes=1),
    )

    response = await api.http.get("/api/auth/verify", params={"token": expired})

    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert not await recorded(api, f"email-verified-{user.id}")
