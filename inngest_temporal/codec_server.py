"""Temporal's remote codec protocol, so the Web UI and CLI can show encrypted payloads.

`POST {prefix}/encode` and `POST {prefix}/decode` take and answer `{"payloads": [...]}`, the
`temporal.api.common.v1.Payloads` message in protobuf JSON. Bodies that are not that, and
payloads the codec cannot decode, answer 400 (the protocol's "invalid JSON"/"decoder error").

Point the Web UI (`--ui-codec-endpoint`) or the CLI (`--codec-endpoint`) at
`{base url}{prefix}`: clients append `/encode` and `/decode` themselves.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from inngest_temporal.codec import CodecError, EncryptionCodec

DEFAULT_PREFIX = "/codec"
# What the Web UI sends: X-Namespace always; Authorization (and Authorization-Extras, the id
# token) when "pass access token" is on; Content-Type: application/json forces a preflight.
CORS_HEADERS = ("Authorization", "Authorization-Extras", "Content-Type", "X-Namespace")

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]
BAD_BODY = 'body must be {"payloads": [...]}: temporal.api.common.v1.Payloads as protobuf JSON'


def codec_router(
    codec: EncryptionCodec,
    authorize: Callable[..., Any] | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> APIRouter:
    """Routes for the codec protocol. `authorize` is a FastAPI dependency run before each call
    (raise HTTPException to refuse); None means anyone who reaches the route may decode.
    `responses`: documented on each route (the application's error answers)."""
    dependencies = [Depends(authorize)] if authorize is not None else []
    router = APIRouter(
        prefix=prefix, tags=["codec"], dependencies=dependencies, responses=responses
    )

    @router.post("/encode")
    async def encode(request: Request) -> Response:
        return await _apply(codec.encode, request)

    @router.post("/decode")
    async def decode(request: Request) -> Response:
        return await _apply(codec.decode, request)

    return router


async def _apply(transform: Transform, request: Request) -> Response:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, "send Content-Type: application/json")
    body = await request.body()
    try:
        payloads = json_format.Parse(body, Payloads())
    # RecursionError: absurdly nested JSON; UnicodeDecodeError: body is not UTF-8.
    except (json_format.ParseError, UnicodeDecodeError, RecursionError):
        raise HTTPException(400, BAD_BODY) from None
    try:
        result = Payloads(payloads=await transform(payloads.payloads))
    except CodecError as error:
        raise HTTPException(400, str(error)) from None
    return Response(json_format.MessageToJson(result), media_type="application/json")


def add_codec_cors(app: Starlette, origins: Sequence[str], *, prefix: str = DEFAULT_PREFIX) -> None:
    """Let the Web UI at `origins` (e.g. "http://localhost:8233") call the codec routes from the
    browser, credentials included. Only paths under `prefix` get CORS: the rest of the API keeps
    refusing cross-origin browsers."""
    app.add_middleware(_PrefixCORS, prefix=prefix, origins=_check_origins(origins))


def _check_origins(origins: Sequence[str]) -> list[str]:
    checked: list[str] = []
    for origin in origins:
        origin = origin.strip().rstrip("/")  # browsers send no trailing slash
        parts = urlsplit(origin)
        if "*" in origin or parts.scheme not in ("http", "https") or not parts.netloc:
            # A wildcard with credentials would let any site decode with a staff's cookies.
            raise ValueError(f"codec CORS origin {origin!r} must be a scheme://host[:port]")
        if parts.path or parts.query or parts.fragment:
            raise ValueError(f"codec CORS origin {origin!r} must not have a path")
        checked.append(origin)
    if not checked:
        raise ValueError("codec CORS needs at least one Web UI origin")
    return checked


class _PrefixCORS:
    def __init__(self, app: ASGIApp, *, prefix: str, origins: list[str]) -> None:
        self._app = app
        self._prefix = prefix.rstrip("/") + "/"
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=("POST",),
            allow_headers=CORS_HEADERS,
            allow_credentials=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self._prefix):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
