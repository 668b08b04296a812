"""Worker processes run on uvloop (inngest_temporal.worker.run_worker): worker.py and the engine
tests' worker_main start through it."""

import asyncio

import uvloop

from inngest_temporal import run_worker


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_worker_processes_run_on_uvloop() -> None:
    assert run_worker(_loop_type()) is uvloop.Loop
