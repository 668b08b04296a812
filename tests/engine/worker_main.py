"""A worker process for the engine tests' toy functions: `python -m tests.engine.worker_main`,
configured by the same environment as worker.py (TEMPORAL_ADDRESS, DATABASE_URL, TASK_QUEUE,
PAYLOAD_ENCRYPTION_KEY, WORKER_BUILD_ID) plus ENGINE_TEST_JOURNAL and FUNCTION_OVERRIDES."""

import json
import os

from inngest_temporal import (
    Dispatcher,
    FunctionOverride,
    Registry,
    Router,
    activity_methods,
    build_worker,
    create_engine,
    run_worker,
    session_factory,
)
from inngest_temporal.client import connect_temporal
from inngest_temporal.codec import data_converter, parse_keys
from tests.engine.functions import FUNCTIONS, ToyActivities
from tests.processes import READY


async def main() -> None:
    client = await connect_temporal(
        data_converter(parse_keys(os.environ["PAYLOAD_ENCRYPTION_KEY"]))
    )
    task_queue = os.environ["TASK_QUEUE"]
    overrides = {
        function_id: FunctionOverride.model_validate(override)
        for function_id, override in json.loads(os.environ.get("FUNCTION_OVERRIDES", "{}")).items()
    }
    engine = create_engine(os.environ["DATABASE_URL"])
    dispatcher = Dispatcher(
        session_factory(engine),
        Router(client, task_queue, Registry(FUNCTIONS, overrides=overrides)),
    )
    workers = build_worker(
        client,
        dispatcher,
        task_queue,
        activity_methods([ToyActivities()]),
        build_id=os.environ.get("WORKER_BUILD_ID"),
    )
    print(f"{READY} {task_queue}", flush=True)
    await workers.run()


if __name__ == "__main__":
    run_worker(main())
