"""The processes a benchmark measures, started the way production runs them: a Temporal dev server
(unless TEMPORAL_ADDRESS is given), a migrated SQLite app database, `python worker.py` and
optionally `uvicorn api.main:app`, each a subprocess on free ports, all in one temp directory."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.dev import wait_for_temporal
from inngest_temporal import Event, FunctionSpec
from inngest_temporal.client import connect_temporal

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKER_READY = "worker on task queue"  # logged by worker.py once it polls


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


@dataclass
class Stack:
    client: Client
    database_url: str
    task_queue: str
    services: dict[str, Service]  # "temporal" (unless TEMPORAL_ADDRESS), "worker", "api"
    server_db: Path | None = None  # the dev server's --db-filename, when we started it
    api_url: str = ""

    def server_db_bytes(self) -> int | None:
        """The dev server's state on disk: the SQLite file plus its -wal and -shm."""
        if self.server_db is None:
            return None
        files = (self.server_db, *(Path(f"{self.server_db}{s}") for s in ("-wal", "-shm")))
        return sum(f.stat().st_size for f in files if f.exists())

    def check_alive(self) -> None:
        for service in self.services.values():
            service.check_alive()

    async def start_run(self, f: FunctionSpec, event: Event) -> None:
        """Start the run `event` starts for `f`, exactly as the router would (id, reuse policy,
        summary), but straight from this process with the Temporal client."""
        await self.client.start_workflow(
            f.id,
            event,
            id=f.workflow_id(event.to_json()),
            task_queue=self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if f.key
            else WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"{event.name} {event.id}",
        )

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each process of the stack, and by this one ("bench")."""
        used = {name: cpu_seconds(s.pid) for name, s in self.services.items()}
        return {**used, "bench": cpu_seconds(os.getpid())}


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_dev_server(workdir: Path, env: dict[str, str]) -> tuple[Service, str, Path]:
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


def _migrate(env: dict[str, str], workdir: Path) -> None:
    with open(workdir / "alembic.log", "wb") as log:
        subprocess.run(
            [str(BIN / "alembic"), "upgrade", "heads"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )


def _api_healthy(url: str) -> Callable[[], Awaitable[bool]]:
    async def healthy() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    return healthy


def _logged(service: Service, line: str) -> Callable[[], Awaitable[bool]]:
    async def ready() -> bool:
        return line in service.log_path.read_text(errors="replace")

    return ready


def _stop_all(services: dict[str, Service]) -> None:
    for service in reversed(services.values()):
        service.stop()


@asynccontextmanager
async def running_stack(
    extra_env: dict[str, str] | None = None, with_api: bool = False
) -> AsyncIterator[Stack]:
    """Everything up and ready; on exit, every process this started is stopped."""
    async with AsyncExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'app.db'}",
            "TASK_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "ENVIRONMENT": "test",
            **(extra_env or {}),
        }
        services: dict[str, Service] = {}
        cleanup.callback(_stop_all, services)
        server_db = None
        if "TEMPORAL_ADDRESS" in os.environ:
            client = await connect_temporal()
        else:
            services["temporal"], address, server_db = _start_dev_server(workdir, env)
            await wait_for_temporal(address)
            client = await Client.connect(address, data_converter=pydantic_data_converter)
            env["TEMPORAL_ADDRESS"] = address
        stack = Stack(client, env["DATABASE_URL"], env["TASK_QUEUE"], services, server_db)
        await asyncio.to_thread(_migrate, env, workdir)
        worker = services["worker"] = Service("worker", [sys.executable, "worker.py"], env, workdir)
        await worker.wait_ready(_logged(worker, WORKER_READY))
        if with_api:
            port = free_port()
            stack.api_url = f"http://127.0.0.1:{port}"
            argv = [
                str(BIN / "uvicorn"), "api.main:app", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning",
            ]  # fmt: skip
            services["api"] = Service("api", argv, env, workdir)
            await services["api"].wait_ready(_api_healthy(stack.api_url))
        yield stack
