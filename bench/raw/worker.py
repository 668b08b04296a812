"""The raw rendition's worker: `python -m bench.raw.worker`. The application's activity classes
(application.build_activities: the same clients, database and outbox as the project's worker)
and the raw workflows, on TASK_QUEUE, with the project's worker options (workflow cache size, the
sandbox's pass-through modules), so the only difference left is the engine."""

import asyncio
import logging

from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from application import build_activities
from bench.raw.connection import connect
from bench.raw.trial import TrialStarter
from bench.raw.workflows import WORKFLOWS
from inngest_temporal import activity_methods, create_engine, session_factory
from inngest_temporal.sandbox import PASSTHROUGH_MODULES
from settings import load_settings

settings = load_settings()

log = logging.getLogger("bench.raw.worker")


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    client = await connect()
    engine = create_engine(settings.database_url)  # the project's SQLite driver and pragmas
    sessions = session_factory(engine)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            *build_activities(sessions, settings),
            *activity_methods([TrialStarter(client, settings.task_queue)]),
        ],
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
        ),
        max_cached_workflows=settings.worker_max_cached_workflows,
    )
    # The line bench/stack.py waits for (the project's worker logs the same).
    log.info("worker on task queue %s (raw rendition)", settings.task_queue)
    try:
        await worker.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
