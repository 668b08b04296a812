"""The processes a benchmark measures, started the way production runs them: a Temporal dev server
(unless TEMPORAL_ADDRESS is given), a migrated SQLite app database, a worker process and
optionally an API under uvicorn, each a subprocess on free ports, all in one temp directory.

The worker and API default to the project's (`python worker.py`, `api.main:create_app`); the raw
Temporal rendition (bench/raw/) passes its own, so both sides run as the same kind of processes
against the same kind of server."""

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.processes import (
    BIN,
    ROOT,
    Service,
    api_healthy,
    cpu_seconds,
    free_port,
    logged,
    migrate,
    start_dev_server,
)
from infra.dev import wait_for_temporal
from inngest_temporal import Event, FunctionSpec
from inngest_temporal.client import connect_temporal
from inngest_temporal.router import run_summary

WORKER_READY = "worker on task queue"  # logged by worker.py (and bench/raw/worker.py) once polling
PROJECT_WORKER = ["worker.py"]
# uvicorn arguments naming the app: the project builds its app in a factory (settings are read,
# and checked, when it starts).
PROJECT_API = ("--factory", "api.main:create_app")

__all__ = ["ROOT", "Stack", "running_stack"]


@dataclass
class Stack:
    client: Client
    database_url: str
    task_queue: str
    services: dict[str, Service]  # "temporal" (unless TEMPORAL_ADDRESS), "worker", "api"
    server_db: Path | None = None  # the dev server's --db-filename, when we started it
    api_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

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
        payload = event.to_json()
        await self.client.start_workflow(
            f.id,
            event,
            id=f.workflow_id(payload),
            task_queue=self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if f.key
            else WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=run_summary(f, payload),
        )

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each process of the stack, and by this one ("bench")."""
        used = {name: cpu_seconds(s.pid) for name, s in self.services.items()}
        return {**used, "bench": cpu_seconds(os.getpid())}


def _stop_all(services: dict[str, Service]) -> None:
    for service in reversed(services.values()):
        service.stop()


@asynccontextmanager
async def running_stack(
    extra_env: dict[str, str] | None = None,
    with_api: bool = False,
    worker_argv: list[str] | None = None,
    api_app: tuple[str, ...] = PROJECT_API,
) -> AsyncIterator[Stack]:
    """Everything up and ready; on exit, every process this started is stopped.

    `worker_argv`: the worker's arguments after the interpreter (default: the project's)."""
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
            services["temporal"], address, server_db = start_dev_server(workdir, env)
            await wait_for_temporal(address)
            client = await Client.connect(address, data_converter=pydantic_data_converter)
            env["TEMPORAL_ADDRESS"] = address
        stack = Stack(client, env["DATABASE_URL"], env["TASK_QUEUE"], services, server_db, env=env)
        await asyncio.to_thread(migrate, env, workdir)
        argv = [sys.executable, *(worker_argv or PROJECT_WORKER)]
        worker = services["worker"] = Service("worker", argv, env, workdir)
        await worker.wait_ready(logged(worker, WORKER_READY))
        if with_api:
            port = free_port()
            stack.api_url = f"http://127.0.0.1:{port}"
            argv = [
                str(BIN / "uvicorn"), *api_app, "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning",
            ]  # fmt: skip
            services["api"] = Service("api", argv, env, workdir)
            await services["api"].wait_ready(api_healthy(stack.api_url))
        yield stack
