"""Several real worker processes on one task queue, as in production: started together, stopped
together whatever the test does."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.processes import WorkerProcess


@asynccontextmanager
async def worker_processes(
    dev_env: WorkflowEnvironment,
    database_url: str,
    task_queue: str,
    log_dir: Path,
    count: int = 2,
    env: dict[str, str] | None = None,
    program: tuple[str, ...] = ("worker.py",),
) -> AsyncIterator[list[WorkerProcess]]:
    address = dev_env.client.service_client.config.target_host
    workers = [
        WorkerProcess(address, database_url, task_queue, log_dir / f"worker-{n}.log", env, program)
        for n in range(count)
    ]
    try:
        await asyncio.gather(*(asyncio.to_thread(w.start) for w in workers))
        yield workers
    finally:
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))
