"""A Temporal dev server of a test's own, as a process the test stops and starts again: same port,
same database file (so its workflows survive), for tests of what happens while Temporal is down."""

import asyncio
import signal
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import IO

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.conftest import SQLITE_PRAGMAS, free_port, tool


class TemporalDevServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db_path = directory / "temporal.db"
        self.log_path = directory / "temporal.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    async def start(self, timeout: float = 60) -> None:
        """Starts the server and returns once it answers."""
        self.process = self._spawn()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Temporal did not start:\n{self.log_path.read_text()[-3000:]}")
            try:
                client = await self.client()
                await client.service_client.check_health(timeout=timedelta(seconds=2))
                return
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)

    def _spawn(self) -> "subprocess.Popen[bytes]":
        self._log = open(self.log_path, "ab")
        return subprocess.Popen(
            [
                *(tool("temporal"), "server", "start-dev", "--headless"),
                *("--ip", "127.0.0.1", "--port", str(self.port)),
                *("--db-filename", str(self.db_path), "--log-level", "error"),
                *SQLITE_PRAGMAS,
            ],
            stdout=self._log,
            stderr=self._log,
        )

    async def client(self, *, lazy: bool = False) -> Client:
        return await Client.connect(self.address, data_converter=pydantic_data_converter, lazy=lazy)

    def stop(self) -> None:
        """SIGKILL: Temporal goes away as in a crash (its database file keeps what it had)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
