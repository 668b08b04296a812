"""inngest_temporal: Inngest's programming model (events, functions, steps) on Temporal.

The engine knows nothing of the application using it: the application declares its functions
with `@function`, hands them to a `Registry`, and assembles workers and its API from the pieces
below (see `worker.py` and `api/main.py` of the application for the composition roots).

The event API's HTTP surface (`inngest_temporal.http`, `inngest_temporal.json_body`) is imported
by the API only: a worker does not load FastAPI (importing worker.py: 3.2 -> 2.1 s of CPU)."""

from inngest_temporal.catalog import EventCatalog, InvalidEvent
from inngest_temporal.db import (
    Sessions,
    UtcDateTime,
    create_engine,
    insert_ignore,
    session_factory,
    utcnow,
)
from inngest_temporal.dispatcher import Accepted, Dispatcher
from inngest_temporal.errors import NonRetriableError, RetryAfterError
from inngest_temporal.events import (
    CamelModel,
    Event,
    FunctionFailed,
    FunctionFailedData,
    ScheduledTimer,
    ScheduledTimerData,
)
from inngest_temporal.function import (
    Backoff,
    Concurrency,
    Cron,
    FunctionSpec,
    Match,
    Throttle,
    function,
)
from inngest_temporal.keys import EventKeys
from inngest_temporal.pipeline import Pipeline
from inngest_temporal.registry import FunctionOverride, LimitOverride, Registry
from inngest_temporal.router import Router
from inngest_temporal.schedules import ensure_schedules
from inngest_temporal.steps import Steps, local_activity
from inngest_temporal.store import metadata as event_log_metadata
from inngest_temporal.testing import step_ids, step_times, worker_with_fakes
from inngest_temporal.worker import activity_methods, build_worker, run_worker

__all__ = [
    "Accepted",
    "Backoff",
    "CamelModel",
    "Concurrency",
    "Cron",
    "Dispatcher",
    "Event",
    "EventCatalog",
    "EventKeys",
    "FunctionFailed",
    "FunctionFailedData",
    "FunctionOverride",
    "FunctionSpec",
    "InvalidEvent",
    "LimitOverride",
    "Match",
    "NonRetriableError",
    "Pipeline",
    "Registry",
    "RetryAfterError",
    "Router",
    "ScheduledTimer",
    "ScheduledTimerData",
    "Sessions",
    "Steps",
    "Throttle",
    "UtcDateTime",
    "activity_methods",
    "build_worker",
    "create_engine",
    "ensure_schedules",
    "event_log_metadata",
    "function",
    "insert_ignore",
    "local_activity",
    "run_worker",
    "session_factory",
    "step_ids",
    "step_times",
    "utcnow",
    "worker_with_fakes",
]
