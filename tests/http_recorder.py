"""A small HTTP server on 127.0.0.1 that records every request and answers from a script: the
stand-in for Resend, Stripe, Slack or a CRM, reached through their real SDKs and clients."""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Recorded], Reply]


class HttpRecorder:
    """`replies` are answered first, in order; after them, `responder` answers."""

    def __init__(self, responder: Responder = lambda _: Reply()) -> None:
        self.requests: list[Recorded] = []
        self.replies: list[Reply] = []
        self.responder = responder
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        recorded = Recorded(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length),
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = self.replies.pop(0) if self.replies else None
        reply = scripted or self.responder(recorded)
        payload = json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    @contextmanager
    def serving(self) -> Iterator["HttpRecorder"]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                recorder._handle(self)

            do_GET = do_POST
            do_DELETE = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
