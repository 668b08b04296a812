"""Engine tests: the toy functions of tests/engine/functions.py on a worker of their own, with a
dispatcher over the session's database (the engine's event log tables)."""

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from inngest_temporal import (
    Dispatcher,
    Event,
    FunctionOverride,
    Registry,
    Router,
    Sessions,
    activity_methods,
    worker_with_fakes,
)
from tests.engine.functions import ToyActivities


@pytest.fixture(autouse=True)
def journal_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal.jsonl"
    monkeypatch.setenv("ENGINE_TEST_JOURNAL", str(path))
    return path


def dispatcher_of(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    functions: Iterable[type],
    events: Iterable[type[Event]] = (),
    overrides: dict[str, FunctionOverride] | None = None,
) -> Dispatcher:
    return Dispatcher(sessions, Router(client, task_queue, Registry(functions, events, overrides)))


@asynccontextmanager
async def engine_worker(
    client: Client,
    sessions: Sessions,
    task_queue: str,
    functions: Iterable[type],
    fakes: Iterable[Callable[..., Any]] = (),
    events: Iterable[type[Event]] = (),
    overrides: dict[str, FunctionOverride] | None = None,
    **worker_options: Any,
) -> AsyncIterator[Dispatcher]:
    """A worker for `functions` (with `fakes` replacing activities of the same name); yields the
    dispatcher that sends events to them."""
    sender = dispatcher_of(client, sessions, task_queue, functions, events, overrides)
    activities = activity_methods([ToyActivities()])
    async with worker_with_fakes(client, sender, task_queue, activities, fakes, **worker_options):
        yield sender
