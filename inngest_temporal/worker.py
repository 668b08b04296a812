"""Worker assembly: an application's functions, their activities and the engine's own (sending
events, admission permits) on the application's task queue, and the admission gates that runs
admitted before permits moved to the database still use, on a queue of their own.

The gates need a queue of their own: a run asks its gate from inside its workflow task (a local
activity waiting on an update), and if the gates shared the runs' workflow task slots, a burst of
runs could hold every slot while their gates wait for one."""

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import uvloop
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from inngest_temporal import payload_passes
from inngest_temporal.admission import GateActivities
from inngest_temporal.dispatcher import Dispatcher
from inngest_temporal.gate import GateWorkflow
from inngest_temporal.permits import PermitActivities
from inngest_temporal.sandbox import sandbox
from inngest_temporal.sending import EventActivities

# The runs one event starts have their first workflow tasks on the task queue's normal (not sticky)
# queue all at once. The SDK's default polls it with one poller of five, so they were fetched one
# round trip after another; here half of ten poll it (provision-account's first task waited
# 12.7 -> 8.3 ms on the server, measured with bench.compare).
FUNCTION_POLLING: dict[str, Any] = {
    "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(10),
    "nonsticky_to_sticky_poll_ratio": 1.0,
}


T = TypeVar("T")


def run_worker(main: Coroutine[Any, Any, T]) -> T:
    """Runs a worker process's main coroutine on uvloop, as uvicorn runs the API. A worker's event
    loop carries every local activity, every completion to and from the SDK's core and every
    hand-off from the threads workflow activations run on: on asyncio's own loop that was a sixth
    of the worker's CPU. Measured with bench.compare's project rendition, six pairs alternating:
    worker CPU per signup 0.88x, provision-account p50 0.90x."""
    return uvloop.run(main)


def activity_methods(holders: Iterable[object]) -> list[Callable[..., Any]]:
    """Every @activity.defn method of the given objects (activity classes holding their clients)."""
    return [
        getattr(holder, name)
        for holder in holders
        for name in dir(holder)
        if hasattr(getattr(holder, name), "__temporal_activity_definition")
    ]


class Workers:
    """The functions' worker and the gates' worker, run and stopped together (the functions'
    first: their last tasks may still be asking a gate), then the routing of the events their
    last steps sent."""

    def __init__(self, functions: Worker, gates: Worker, dispatcher: Dispatcher) -> None:
        self.functions = functions
        self.gates = gates
        self.dispatcher = dispatcher

    async def run(self) -> None:
        await asyncio.gather(self.functions.run(), self.gates.run())

    async def __aenter__(self) -> Self:
        await self.gates.__aenter__()
        await self.functions.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.functions.__aexit__(exc_type, exc, tb)
        finally:
            await self.gates.__aexit__(exc_type, exc, tb)
            await self.dispatcher.settle()


def gate_queue(task_queue: str) -> str:
    return f"{task_queue}-gates"


def build_worker(
    client: Client,
    dispatcher: Dispatcher,
    task_queue: str,
    activities: Iterable[Callable[..., Any]],
    *,
    passthrough_modules: Iterable[str] = (),
    gate_probe: timedelta = timedelta(seconds=30),
    build_id: str | None = None,
    **options: Any,
) -> Workers:
    """Workers for every function in the dispatcher's registry. `activities`: the application's
    activity callables (see `activity_methods`); the engine adds its own. `gate_probe`: how soon
    the permit of a run that is gone (terminated, timed out, reset) is given to the next.
    `build_id`: what the workers report to Temporal with each task they complete (the release:
    a git sha, an image tag); None: the SDK's hash of every loaded module's bytecode, which
    costs half a second of CPU at start."""
    registry = dispatcher.router.registry
    payload_passes.install()
    runner = sandbox(tuple(passthrough_modules))
    probe = gate_probe.total_seconds()
    gate_activities = GateActivities(client, gate_queue(task_queue), registry, probe)
    permits = PermitActivities(client, dispatcher.sessions, registry, probe)
    functions = Worker(
        client,
        task_queue=task_queue,
        workflows=[f.workflow for f in registry.functions],
        activities=[
            *activities,
            *activity_methods([EventActivities(dispatcher), permits, gate_activities]),
        ],
        workflow_runner=runner,
        build_id=build_id,
        **{**FUNCTION_POLLING, **options},
    )
    gates = Worker(
        client,
        task_queue=gate_queue(task_queue),
        workflows=[GateWorkflow],
        activities=activity_methods([gate_activities]),
        workflow_runner=runner,
        build_id=build_id,
    )
    return Workers(functions, gates, dispatcher)
