"""A CRM webhook on 127.0.0.1 for tests: records every request, applies each Idempotency-Key once
(a repeated key gets the first answer back, with no new effect), can answer slowly or hold its
answers until released, and can fail the first requests with scripted statuses. Threaded, so
worker processes can call it at once."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    idempotency_key: str
    body: dict[str, object]
    at: float  # time.monotonic()


class FakeCrm:
    def __init__(
        self, delay: float = 0.0, failures: list[Failure] | None = None, hold: bool = False
    ) -> None:
        self.delay = delay
        self.failures = list(failures or [])
        self.requests: list[Received] = []
        self.effects: dict[str, str] = {}  # idempotency key -> contact id created
        self._lock = threading.Condition()
        self._released = threading.Event()
        if not hold:
            self._released.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    def url(self, provider: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/contacts/{provider}"

    def release(self) -> None:
        """Answer the held requests (and every later one) at once."""
        self._released.set()

    def wait_for_requests(self, count: int, timeout: float = 60) -> None:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"the CRM received {len(self.requests)} of {count} requests")

    def effects_for(self, user_id: str) -> int:
        with self._lock:
            keys = {r.idempotency_key for r in self.requests if r.body.get("userId") == user_id}
            return sum(1 for key in keys if key in self.effects)

    def _answer(self, received: Received) -> tuple[int, dict[str, str], dict[str, object]]:
        with self._lock:
            self.requests.append(received)
            self._lock.notify_all()
            if self.failures:
                failure = self.failures.pop(0)
                return failure.status, failure.headers, {"error": "scripted failure"}
            contact_id = self.effects.setdefault(
                received.idempotency_key, f"contact_{len(self.effects) + 1}"
            )
        return 200, {}, {"id": contact_id}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received = Received(
                    path=self.path,
                    idempotency_key=self.headers.get("Idempotency-Key", ""),
                    body=json.loads(self.rfile.read(length) or b"{}"),
                    at=time.monotonic(),
                )
                status, headers, payload = crm._answer(received)
                crm._released.wait()
                time.sleep(crm.delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller died mid-request (the SIGKILL test): nothing to answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator["FakeCrm"]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
