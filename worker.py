"""The production worker: `python worker.py`. Runs every pipeline and keeps the cron schedules."""

import asyncio
import logging
import sys

from sqlalchemy import text

from db import create_engine, session_factory
from events.registry import registry
from infra.schedules import ensure_schedules
from infra.temporal import connect_temporal
from infra.worker import build_worker
from settings import settings


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    client = await connect_temporal()
    engine = create_engine(settings.database_url)
    if settings.manage_schedules:
        await ensure_schedules(client, registry, settings.task_queue, settings.schedule_time_zone)
    worker = build_worker(client, session_factory(engine), settings, registry)
    logging.getLogger("pipelines.worker").info(
        "worker on task queue %s: %s", settings.task_queue, [f.id for f in registry.functions]
    )
    try:
        await worker.run()
    finally:
        await engine.dispose()


async def check() -> None:
    """`python worker.py --check`: the health check of a worker container."""
    client = await connect_temporal()
    await client.service_client.check_health()
    engine = create_engine(settings.database_url)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    await engine.dispose()


if __name__ == "__main__":
    try:
        asyncio.run(check() if "--check" in sys.argv else main())
    except KeyboardInterrupt:
        pass
