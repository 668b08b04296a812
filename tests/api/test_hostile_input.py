"""Hostile input gets a 4xx naming the problem: never a 5xx, never a dropped connection. Each
class from issue 8, in-process and again over a real socket (uvicorn), where a dropped
connection or a request the HTTP parser refuses would show. Nothing here is stored or routed."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from inngest_temporal import Sessions
from inngest_temporal.store import StoredEvent
from settings import Settings
from tests.api.conftest import STAFF
from tests.api.live import raw_exchange, served
from tests.support import unique

KEY = "secret-key"
EVENTS = "/api/events"
SIGNUP = "/api/auth/signup"
AUTH = {"authorization": f"Bearer {KEY}"}
JSON = {"content-type": "application/json"}
MARKER = unique("hostile")  # in every event below: none may be stored


def event(**overrides: Any) -> bytes:
    data = {"userId": MARKER, "email": "ada@example.com", "name": "Ada", "plan": "free"}
    return json.dumps({"name": "user/signup.completed", "data": data, **overrides}).encode()


@dataclass(frozen=True)
class Case:
    label: str
    path: str
    body: bytes | None
    status: int
    detail: str
    headers: dict[str, Any] = field(default_factory=lambda: AUTH | JSON)
    method: str = "POST"


NESTED = b"[" * 100_000 + b"]" * 100_000
CASES = [
    Case("deeply nested JSON", EVENTS, NESTED, 400, "nested deeper than 32 levels"),
    Case("deeply nested JSON, signup", SIGNUP, NESTED, 400, "nested deeper than 32 levels"),
    Case("JSON nested 33 deep", EVENTS, b"[" * 33 + b"]" * 33, 400, "nested deeper than 32 levels"),
    Case("ts of 2**64", EVENTS, event(ts=2**64), 400, "integers must fit in 64 bits"),
    Case("ts after 2100", EVENTS, event(ts=2**62), 422, "ts: Input should be less than"),
    Case("ts before 1980", EVENTS, event(ts=1000), 422, "ts must be between 1980 and 2100"),
    Case("event id of 5,000 characters", EVENTS, event(id="x" * 5000), 422, "at most 256"),
    Case(
        "event id of 5,000 characters, read",
        EVENTS + "/" + "x" * 5000,
        None,
        422,
        "at most 256",
        method="GET",
    ),
    Case("control character in a name", EVENTS, event(name="user/\x01"), 422, "unknown event"),
    Case(
        "non-ASCII event key in the path", "/e/ключ", event(), 401, "wrong event key", headers=JSON
    ),
    Case(
        "non-ASCII event key in Authorization",
        EVENTS,
        event(),
        401,
        "missing or wrong event key",
        headers={"authorization": "Bearer ключ".encode()} | JSON,
    ),
    Case(
        "event key of 5,000 characters in the path",
        "/e/" + "k" * 5000,
        event(),
        422,
        "600",
        headers=JSON,
    ),
    Case(
        "Authorization of 5,000 characters",
        EVENTS,
        event(),
        422,
        "at most 600 characters",
        headers={"authorization": "Bearer " + "k" * 5000} | JSON,
    ),
    Case(
        "100 KB signup name",
        SIGNUP,
        json.dumps({"email": "ada@example.com", "name": "n" * 100_000}).encode(),
        422,
        "at most 200 characters",
    ),
    Case(
        "plain text",
        EVENTS,
        b"hello",
        415,
        "Content-Type: application/json",
        headers=AUTH | {"content-type": "text/plain"},
    ),
    Case(
        "form body",
        EVENTS,
        b"name=user%2Fsignup.completed",
        415,
        "send JSON",
        headers=AUTH | {"content-type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "multipart body",
        SIGNUP,
        b"--b\r\n\r\nx\r\n--b--\r\n",
        415,
        "send JSON",
        headers={"content-type": "multipart/form-data; boundary=b"},
    ),
    Case("JSON without a content type", EVENTS, event(), 415, "send JSON", headers=AUTH),
    Case("empty body", EVENTS, b"", 400, "request body is empty"),
    Case("empty signup body", SIGNUP, b"", 422, "Field required", headers=JSON),
    Case("non-UTF-8 body", EVENTS, b'{"name": "\xff\xfe"}', 400, "not UTF-8"),
    Case(
        "integer beyond 64 bits",
        EVENTS,
        event().replace(b'"plan"', b'"n": 18446744073709551616, "plan"'),
        400,
        "integers must fit in 64 bits",
    ),
    Case("number beyond a double", EVENTS, b'{"name": "x", "data": 1e400}', 400, "out of range"),
    Case("NaN", EVENTS, b'{"name": "x", "data": NaN}', 400, "NaN is not a JSON number"),
    Case(
        "NUL in a string",
        SIGNUP,
        b'{"email": "a@example.com", "name": "a\\u0000"}',
        400,
        "NUL",
        headers=JSON,
    ),
    Case("unpaired surrogate", EVENTS, event(user={"x": "\ud800"}), 400, "unpaired surrogates"),
    Case("event over 256 KiB", EVENTS, event(user={"x": "x" * 300_000}), 413, "per event"),
    Case("body over MAX_BODY_BYTES", EVENTS, b'"' + b"x" * 3_200_000 + b'"', 413, "byte limit"),
    Case("order id with a NUL", "/api/orders/%00x", None, 422, "order_id", STAFF, "GET"),
    Case(
        "order id of 5,000 characters",
        "/api/orders/" + "o" * 5000,
        None,
        422,
        "order_id",
        STAFF,
        "GET",
    ),
    Case(
        "malformed event id seed",
        EVENTS,
        event(),
        400,
        "x-inngest-event-id-seed",
        headers=AUTH | JSON | {"x-inngest-event-id-seed": "not-a-seed"},
    ),
]


async def answers(http: httpx.AsyncClient) -> list[str]:
    """Every case sent; the cases answered otherwise than expected (a 5xx, a dropped connection,
    another status or a detail that does not name the problem)."""
    wrong = []
    for case in CASES:
        try:
            response = await http.request(
                case.method, case.path, content=case.body, headers=case.headers
            )
        except httpx.HTTPError as err:
            wrong.append(f"{case.label}: no answer ({err!r})")
            continue
        detail = str(response.json().get("detail")) if response.content else ""
        if response.status_code != case.status or case.detail not in detail:
            wrong.append(f"{case.label}: {response.status_code} {response.text[:300]}")
    return wrong


@pytest.fixture
def hostile_app(dev_env: WorkflowEnvironment, api_settings: Settings, db_url: str) -> FastAPI:
    """On SQLite and on PostgreSQL (which refuses NUL in text, where SQLite stores it)."""

    async def connect() -> Client:
        return dev_env.client

    settings = api_settings.model_copy(update={"event_key": KEY, "database_url": db_url})
    return create_app(settings, connect=connect)


@pytest.fixture
async def nothing_stored(any_sessions: Sessions) -> AsyncIterator[None]:
    yield
    async with any_sessions() as session:
        stored = await session.scalar(
            select(func.count()).where(StoredEvent.data["userId"].as_string() == MARKER)
        )
    assert stored == 0


async def test_each_hostile_class_gets_a_4xx_naming_it(
    hostile_app: FastAPI, nothing_stored: None
) -> None:
    transport = httpx.ASGITransport(app=hostile_app)
    async with (
        hostile_app.router.lifespan_context(hostile_app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        assert await answers(http) == []


async def test_over_a_socket_too_no_5xx_and_no_dropped_connection(
    hostile_app: FastAPI, nothing_stored: None
) -> None:
    async with served(hostile_app) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        assert await answers(http) == []

        # Bytes no HTTP client sends: refused by the HTTP parser (a 400) or by the key check.
        raw_path = await raw_exchange(
            url,
            "POST /e/ключ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode(),
        )
        assert raw_path.startswith(b"HTTP/1.1 400 "), raw_path
        raw_key = await raw_exchange(
            url,
            b"POST /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        assert raw_key.startswith(b"HTTP/1.1 401 "), raw_key
        # A body streamed in chunks (no Content-Length) over the limit: still a 413.
        chunk = b"x" * 1_000_000
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4))
        streamed = await raw_exchange(
            url,
            b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n",
        )
        assert streamed.startswith(b"HTTP/1.1 413 "), streamed[:300]
