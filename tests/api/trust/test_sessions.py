"""Customer sessions: the access token from sign-up, one-time sign-in links by email, the admin
role from ADMIN_EMAILS, and tokens of a team's own identity provider (OIDC, its key set served on
127.0.0.1)."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from auth.tokens import issue_token
from tests.api.conftest import Api, app_with
from tests.http_recorder import HttpRecorder, Reply
from tests.shop import add_user, emails_to
from tests.support import eventually, unique


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_signup_answers_with_a_session_that_works(api: Api) -> None:
    email = f"{unique('ada')}@example.com"
    response = await api.http.post("/api/auth/signup", json={"email": email, "name": "Ada"})
    body = response.json()
    me = await api.http.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert (me.status_code, me.json()["email"], body["role"]) == (200, email, "member")


async def sign_in_link(api: Api, email: str) -> str:
    async def link() -> str | None:
        sent = await emails_to(api.sessions, email)
        found = re.search(r'href="([^"]+)"', sent[-1].body) if sent else None
        return found.group(1).replace("&amp;", "&") if found else None

    url: str = await eventually(link)
    return url.split("?", 1)[1]


async def test_a_sign_in_link_signs_in_once(api: Api) -> None:
    user = await add_user(api.sessions)
    assert (await api.http.post("/api/auth/login", json={"email": user.email})).status_code == 202
    query = await sign_in_link(api, user.email)

    first = await api.http.get(f"/api/auth/login/callback?{query}")
    again = await api.http.get(f"/api/auth/login/callback?{query}")

    assert first.status_code == 200, first.text
    me = await api.http.get("/api/auth/me", headers=bearer(first.json()["accessToken"]))
    assert me.json()["userId"] == user.id
    assert again.status_code == 409 and "used before" in again.json()["detail"]


async def test_sign_in_tells_nothing_about_unknown_addresses(api: Api) -> None:
    email = f"{unique('nobody')}@example.com"
    response = await api.http.post("/api/auth/login", json={"email": email})
    known = await add_user(api.sessions)
    assert (await api.http.post("/api/auth/login", json={"email": known.email})).json() == (
        response.json()
    )
    assert response.status_code == 202
    await sign_in_link(api, known.email)  # the known one's link went out; none for the unknown
    assert await emails_to(api.sessions, email) == []


async def test_tokens_work_for_their_purpose_only(api: Api) -> None:
    user = await add_user(api.sessions)
    key, soon = api.settings.signing_key, datetime.now(UTC) + timedelta(minutes=5)
    verification = issue_token(key, "email-verification", user.id, soon)
    sign_in = issue_token(key, "sign-in", user.id, soon, token_id=unique("link"))
    expired = issue_token(key, "access", user.id, datetime.now(UTC) - timedelta(seconds=1))

    assert (await api.http.get("/api/auth/me", headers=bearer(verification))).status_code == 401
    assert (await api.http.get("/api/auth/me", headers=bearer(sign_in))).status_code == 401
    late = await api.http.get("/api/auth/me", headers=bearer(expired))
    assert late.status_code == 401 and "expired" in late.json()["detail"]
    wrong_use = await api.http.get(f"/api/auth/login/callback?token={verification}")
    assert wrong_use.status_code == 400
    old_link = issue_token(key, "sign-in", user.id, datetime.now(UTC), token_id="x")
    assert (await api.http.get(f"/api/auth/login/callback?token={old_link}")).status_code == 410


async def test_admin_emails_grant_the_admin_role(api: Api) -> None:
    email = f"{unique('boss')}@example.com"
    existing = await add_user(api.sessions, email=f"{unique('lead')}@example.com")
    async with app_with(api, admin_emails=[email.upper(), existing.email]) as http:
        signed_up = (await http.post("/api/auth/signup", json={"email": email, "name": "B"})).json()
        assert signed_up["role"] == "admin"
        assert (
            await http.post("/api/auth/login", json={"email": existing.email})
        ).status_code == 202
        query = await sign_in_link(api, existing.email)
        signed_in = (await http.get(f"/api/auth/login/callback?{query}")).json()
        assert signed_in["role"] == "admin"
        # An admin's session passes the staff check (here: an unknown order, not a 401/403).
        approve = await http.post(
            "/api/refunds/ord_nope/approve", headers=bearer(signed_in["accessToken"])
        )
        assert approve.status_code == 404


ISSUER, AUDIENCE = "https://id.example.test/", "pipelines-api"


@pytest.fixture
def identity_provider() -> Iterator[tuple[HttpRecorder, Any]]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk |= {"kid": "key-1", "use": "sig", "alg": "RS256"}
    recorder = HttpRecorder(lambda _: Reply(body={"keys": [jwk]}))
    with recorder.serving():
        yield recorder, private_key


def id_token(private_key: Any, email: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "idp|1", "email": email}
    payload |= {"email_verified": True, "iat": now, "exp": now + 300} | claims
    return jwt.encode(payload, private_key, algorithm="RS256", headers={"kid": "key-1"})


async def test_tokens_of_the_teams_identity_provider_are_accepted(
    api: Api, identity_provider: tuple[HttpRecorder, Any]
) -> None:
    keys, private_key = identity_provider
    user = await add_user(api.sessions)
    settings = {
        "auth_jwks_url": keys.url + "/jwks",
        "auth_issuer": ISSUER,
        "auth_audience": AUDIENCE,
    }
    async with app_with(api, **settings) as http:
        good = await http.get("/api/auth/me", headers=bearer(id_token(private_key, user.email)))
        assert (good.status_code, good.json()["userId"]) == (200, user.id)
        for refused in (
            id_token(private_key, user.email, aud="someone-else"),
            id_token(private_key, user.email, exp=int(time.time()) - 10),
            id_token(private_key, user.email, iss="https://elsewhere.test/"),
            id_token(private_key, "stranger@example.com"),
            id_token(rsa.generate_private_key(public_exponent=65537, key_size=2048), user.email),
        ):
            assert (await http.get("/api/auth/me", headers=bearer(refused))).status_code == 401
    assert keys.requests and keys.requests[0].path == "/jwks"
