"""Request bodies held to bounds before anything parses them for real: a size limit, JSON only,
UTF-8, a nesting depth, finite numbers within 64 bits, text that any database can store. Every
breach is a 4xx naming the problem, never a 5xx (Python's json module raises RecursionError on
deep nesting, a 2**64 would overflow a database column much later, after work was done, and
PostgreSQL refuses a NUL character or a lone surrogate in text, which JSON's escapes allow)."""

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException, Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_DEPTH = 32
INT64 = 2**63 - 1
# NUL, and UTF-16 surrogates that are not part of a pair (`"\ud800"`): valid JSON, not text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
BODY_METHODS = {"POST", "PUT", "PATCH"}
# How much of a body over the limit is read (and dropped) so that its sender gets the answer.
DRAIN_BYTES = 16 * 1024 * 1024


class BodyError(HTTPException):
    pass


def parse_json(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    if not body.strip():
        raise BodyError(400, "request body is empty: expected JSON")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BodyError(400, f"request body is not UTF-8 (byte {err.start})") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_int=_int64, parse_float=_finite)
    except RecursionError:
        raise BodyError(400, f"JSON nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as err:
        raise BodyError(400, f"malformed JSON: {err}") from None
    except ValueError as err:
        raise BodyError(400, f"unsupported JSON number: {err}") from None
    if _may_breach(text, max_depth):
        _check(value, max_depth)
    return value


def _may_breach(text: str, max_depth: int) -> bool:
    """Whether the parsed value needs walking: the parser refuses raw control characters in
    strings and UTF-8 decoding refuses encoded surrogates, so NUL and a lone surrogate can only
    come from a \\u escape; and a value nests no deeper than it has brackets."""
    return "\\u" in text or text.count("{") + text.count("[") > max_depth


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _int64(text: str) -> int:
    value = int(text)
    if not -INT64 - 1 <= value <= INT64:
        raise ValueError("integers must fit in 64 bits")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _check(value: Any, max_depth: int) -> None:
    """The nesting depth and every string (keys included). Iterative, so walking a deep value
    cannot itself recurse too deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth > max_depth:
            raise BodyError(400, f"JSON nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and _UNSTORABLE.search(item):
            raise BodyError(
                400, "JSON strings may not contain NUL (\\u0000) or unpaired surrogates (\\ud800)"
            )


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class JsonBodyLimits:
    """ASGI middleware: every request body within `max_bytes`, and JSON held to the bounds above.
    The parsed body is kept in the request state for handlers that want it."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
            if body:
                headers = dict(scope.get("headers") or [])
                content_type = headers.get(b"content-type", b"").decode("latin-1")
                if not _is_json(content_type):
                    raise BodyError(415, "send JSON, with Content-Type: application/json")
                scope.setdefault("state", {})["json_body"] = parse_json(body, self.max_depth)
        except BodyError as err:
            await _answer(send, err.status_code, str(err.detail))
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        too_large = BodyError(413, f"request body is over the {self.max_bytes} byte limit")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_BYTES:
                await _drain(receive)
            raise too_large
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body.extend(message.get("body", b""))
            if len(body) > self.max_bytes:
                await _drain(receive)
                raise too_large
            if not message.get("more_body"):
                break
        return bytes(body)


async def _drain(receive: Receive) -> None:
    """Reads what is left of a refused body (up to DRAIN_BYTES) and drops it. A server that
    closes a connection with request bytes still unread resets it, and the client, still
    sending, never sees the 413 (nginx's "lingering close" does the same)."""
    budget = DRAIN_BYTES
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body"):
            return


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request's JSON: as the middleware parsed it, or parsed here within the same bounds."""
    parsed = getattr(request.state, "json_body", None)
    if parsed is not None:
        return parsed
    body = await request.body()
    if len(body) > max_bytes:
        raise BodyError(413, f"request body is over the {max_bytes} byte limit")
    return parse_json(body)


async def _answer(send: Send, status: int, detail: str) -> None:
    payload = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
