"""The remote codec protocol over HTTP, as the Temporal Web UI and CLI speak it."""

import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from inngest_temporal.codec import EncryptionCodec, generate_key, parse_keys
from inngest_temporal.codec_server import add_codec_cors, codec_router

EMAIL = "ada.lovelace@example.com"
TOKEN = "staff-token"
UI = "http://localhost:8233"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
NEW, OLD = parse_keys(f"{generate_key()},{generate_key()}")


def require_token(request: Request) -> None:
    """Stands for the application's staff check: 401 without a bearer token, 403 if wrong."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "send a bearer token")
    if not hmac.compare_digest(token.encode(), TOKEN.encode()):
        raise HTTPException(403, "wrong token")


def make_app(authorize: Any = require_token) -> FastAPI:
    app = FastAPI()
    app.include_router(codec_router(EncryptionCodec([NEW, OLD]), authorize))

    @app.get("/elsewhere")
    def elsewhere() -> str:
        return "ok"

    add_codec_cors(app, [UI + "/"])
    return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
        yield client


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    body: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    return body


def from_json(body: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


def plain_payload(value: object) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([value])[0]


async def test_decode_answers_the_decoded_payloads(http: httpx.AsyncClient) -> None:
    encrypted = await EncryptionCodec([OLD]).encode([plain_payload({"email": EMAIL})])
    response = await http.post("/codec/decode", json=as_json(encrypted), headers=STAFF)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert from_json(response.json()) == [plain_payload({"email": EMAIL})]


async def test_encode_then_decode_round_trips_over_http(http: httpx.AsyncClient) -> None:
    original = [plain_payload(EMAIL), plain_payload({"n": 1})]
    encoded = await http.post("/codec/encode", json=as_json(original), headers=STAFF)
    assert encoded.status_code == 200, encoded.text
    assert EMAIL not in encoded.text
    decoded = await http.post("/codec/decode", json=encoded.json(), headers=STAFF)
    assert from_json(decoded.json()) == original


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer guess"}, 403), ({"Authorization": "Basic x"}, 401)],
)
async def test_the_authorize_dependency_guards_both_routes(
    http: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    body = as_json(await EncryptionCodec([NEW]).encode([plain_payload(EMAIL)]))
    for route in ("/codec/decode", "/codec/encode"):
        response = await http.post(route, json=body, headers=headers)
        assert response.status_code == status
        assert EMAIL not in response.text


async def test_without_authorize_anyone_may_decode() -> None:
    transport = httpx.ASGITransport(app=make_app(authorize=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
        encrypted = await EncryptionCodec([NEW]).encode([plain_payload(EMAIL)])
        response = await client.post("/codec/decode", json=as_json(encrypted))
    assert from_json(response.json()) == [plain_payload(EMAIL)]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"payloads": "x"}',
        b'{"payloads": [{"metadata": {"encoding": 5}}]}',
        b'{"unknown": []}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
async def test_a_malformed_body_is_a_400(http: httpx.AsyncClient, body: bytes) -> None:
    response = await http.post(
        "/codec/decode",
        content=body,
        headers={**STAFF, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "payloads" in response.json()["detail"]


async def test_a_payload_under_an_unknown_key_is_a_400(http: httpx.AsyncClient) -> None:
    stranger = parse_keys(generate_key())
    encrypted = await EncryptionCodec(stranger).encode([plain_payload(EMAIL)])
    response = await http.post("/codec/decode", json=as_json(encrypted), headers=STAFF)
    assert response.status_code == 400
    assert stranger[0].key_id in response.json()["detail"]


async def test_a_body_that_is_not_json_typed_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/codec/decode",
        content=json.dumps({"payloads": []}),
        headers={**STAFF, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


async def test_the_web_ui_preflight_is_allowed(http: httpx.AsyncClient) -> None:
    response = await http.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_the_web_ui_reads_the_answer_and_its_errors(http: httpx.AsyncClient) -> None:
    encrypted = await EncryptionCodec([NEW]).encode([plain_payload(EMAIL)])
    headers = {"Origin": UI, "X-Namespace": "default"}
    ok = await http.post("/codec/decode", json=as_json(encrypted), headers={**headers, **STAFF})
    refused = await http.post("/codec/decode", json=as_json(encrypted), headers=headers)
    assert ok.headers["access-control-allow-origin"] == UI
    # Without CORS headers on the 401 the browser would report a network error instead.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == UI


async def test_other_origins_and_other_routes_get_no_cors(http: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    evil = await http.options(
        "/codec/decode", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in evil.headers
    elsewhere = await http.get("/elsewhere", headers={"Origin": UI})
    assert elsewhere.status_code == 200
    assert "access-control-allow-origin" not in elsewhere.headers


@pytest.mark.parametrize("origin", ["*", "https://*.example.com", "localhost:8233", "http://x/p"])
def test_cors_refuses_wildcards_and_non_origins(origin: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        add_codec_cors(FastAPI(), [origin])
