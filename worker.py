"""The production worker: `python worker.py`. Runs every function, routes stored events that are
due (the dispatcher), and keeps the cron schedules. Refuses to start on a configuration problem
(see settings.py)."""

import asyncio
import logging
import sys
from contextlib import suppress

from sqlalchemy import text

from application import build_activities, build_dispatcher, build_registry
from infra.logs import configure_logging
from inngest_temporal import (
    build_worker,
    create_engine,
    ensure_schedules,
    run_worker,
    session_factory,
)
from inngest_temporal.client import connect_temporal
from inngest_temporal.codec import data_converter
from settings import Settings, load_settings

log = logging.getLogger("pipelines.worker")


async def main(settings: Settings) -> None:
    configure_logging(settings)
    client = await connect_temporal(data_converter(settings.encryption_keys))
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    registry = build_registry(settings)
    dispatcher = build_dispatcher(client, sessions, settings, registry)
    if settings.manage_schedules:
        await ensure_schedules(client, registry, settings.task_queue, settings.schedule_time_zone)
    worker = build_worker(
        client,
        dispatcher,
        settings.task_queue,
        build_activities(sessions, settings),
        max_cached_workflows=settings.worker_max_cached_workflows,
        build_id=settings.worker_build_id,
    )
    log.info(
        "worker on task queue %s, build %s: %s",
        settings.task_queue,
        settings.worker_build_id or "(the SDK's hash of the loaded code)",
        [f.id for f in registry.functions],
    )
    routing = asyncio.create_task(dispatcher.run())
    try:
        await worker.run()
    finally:
        routing.cancel()
        with suppress(asyncio.CancelledError):
            await routing  # it writes what it routed and has not written yet
        await engine.dispose()


async def check(settings: Settings) -> None:
    """`python worker.py --check`: the health check of a worker container."""
    client = await connect_temporal(data_converter(settings.encryption_keys))
    await client.service_client.check_health()
    engine = create_engine(settings.database_url)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    await engine.dispose()


if __name__ == "__main__":
    current = load_settings()
    try:
        run_worker(check(current) if "--check" in sys.argv else main(current))
    except KeyboardInterrupt:
        pass
