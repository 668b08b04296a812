"""Real worker processes (`python worker.py`) for tests that need several of them, or a SIGKILL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from tests.conftest import TEST_ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parent.parent
READY = "worker on task queue"


class WorkerProcess:
    """A `python worker.py` (or another worker program) against the given server, database and
    task queue."""

    def __init__(
        self,
        temporal_address: str,
        database_url: str,
        task_queue: str,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        program: tuple[str, ...] = ("worker.py",),
    ) -> None:
        self.log_path = log_path
        self.program = program
        self.env = {
            **os.environ,
            "TEMPORAL_ADDRESS": temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "DATABASE_URL": database_url,
            "TASK_QUEUE": task_queue,
            "ENVIRONMENT": "test",
            "PAYLOAD_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 60) -> "WorkerProcess":
        self._log = open(self.log_path, "ab")
        start_offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, *self.program],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while READY not in self.log_path.read_text(errors="replace")[start_offset:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a machine dies."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, grace: float = 3.0) -> None:
        """SIGINT, then SIGKILL after `grace` seconds: a worker's graceful shutdown can sit out
        a long poll to the server (seen: 15 s, in half the runs), which no test is about."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
