"""Subprocesses of a benchmark and what they cost: start, wait until ready, stop; CPU seconds and
resident memory read from /proc, so a process is measured without touching it."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """One subprocess with its output in a log file; stopped with SIGINT, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=self._log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{tail}")

    async def wait_ready(self, ready: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not await ready():
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {seconds}s: see {self.log_path}")
            await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat, in clock ticks).
    Threads included; children not (none of the measured processes forks workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (every process: ours and others'), from
    /proc/stat, so a report can say how much of the machine other work took meanwhile."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def start_dev_server(workdir: Path, env: dict[str, str]) -> tuple[Service, str, Path]:
    """The dev server exactly as `make dev` runs it (infra/dev.py): SQLite file in WAL mode with
    synchronous=normal, warn logs; headless and on free ports here."""
    port = free_port()
    db_file = workdir / "temporal.db"
    argv = [
        str(BIN / "temporal"), "server", "start-dev",
        "--ip", "127.0.0.1", "--port", str(port), "--headless",
        "--http-port", str(free_port()), "--metrics-port", str(free_port()),
        "--db-filename", str(db_file),
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        "--log-level", "warn",
    ]  # fmt: skip
    return Service("temporal", argv, env, workdir), f"127.0.0.1:{port}", db_file


def migrate(env: dict[str, str], workdir: Path) -> None:
    with open(workdir / "alembic.log", "wb") as log:
        subprocess.run(
            [str(BIN / "alembic"), "upgrade", "heads"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )


def api_healthy(url: str) -> Callable[[], Awaitable[bool]]:
    async def healthy() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    return healthy


def logged(service: Service, line: str) -> Callable[[], Awaitable[bool]]:
    async def ready() -> bool:
        return line in service.log_path.read_text(errors="replace")

    return ready
