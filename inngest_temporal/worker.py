"""Worker assembly: an application's functions, their activities and the engine's own (sending
events, admission permits) on the application's task queue, and the admission gates that runs
admitted before permits moved to the database still use, on a queue of their own.

The gates need a queue of their own: a run asks its gate from inside its workflow task (a local
activity waiting on an update), and if the gates shared the runs' workflow task slots, a burst of
runs could hold every slot while their gates wait for one."""

import asyncio
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, cast

from temporalio import workflow
from temporalio.client import Client
from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import (
    PollerBehaviorSimpleMaximum,
    Worker,
    WorkflowInstance,
    WorkflowInstanceDetails,
)
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._runner import _Instance as SandboxInstance

from inngest_temporal.admission import GateActivities
from inngest_temporal.dispatcher import Dispatcher
from inngest_temporal.gate import GateWorkflow
from inngest_temporal.permits import PermitActivities
from inngest_temporal.sending import EventActivities

# Pure libraries event models use: loaded once, not re-imported into every workflow sandbox.
PASSTHROUGH_MODULES = (
    "pydantic",
    "pydantic_core",
    "email_validator",
    "idna",
    "ulid",
    "cryptography",
)


# The runs one event starts have their first workflow tasks on the task queue's normal (not sticky)
# queue all at once. The SDK's default polls it with one poller of five, so they were fetched one
# round trip after another; here half of ten poll it (provision-account's first task waited
# 12.7 -> 8.3 ms on the server, measured with bench.compare).
FUNCTION_POLLING: dict[str, Any] = {
    "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(10),
    "nonsticky_to_sticky_poll_ratio": 1.0,
}


class _Instance(SandboxInstance):
    """A run in the sandbox, answering the SDK's per-payload questions (which serialization and
    external-storage context a payload of a command gets) by asking the run's state directly.

    The SDK enters the sandbox for each (compiling and executing a snippet with the sandbox's
    importer applied), three times per payload sequence on the way in and three on the way out
    of every activation: about 8% of the worker's CPU in the signup benchmark. The answer is
    plain reads of the run's pending commands by SDK code passed through to the sandbox, which
    imports nothing. The in-sandbox instance exists once __init__ returns (it creates it)."""

    @property
    def _in_sandbox(self) -> Any:
        return cast(dict[str, Any], self.globals_and_locals)["__temporal_in_sandbox"]

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> SerializationContext | None:
        context: SerializationContext | None = self._in_sandbox.get_serialization_context(
            command_info
        )
        return context

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        context: StorageDriverStoreContext = self._in_sandbox.get_external_store_context(
            command_info
        )
        return context


@dataclass(frozen=True)
class _ValidatingOnce(SandboxedWorkflowRunner):
    """The sandbox, validating each workflow class once per process (validation runs the class in
    a sandbox of its own, tenths of a second each, and answers the same for every worker a
    process builds; a test suite builds one per test), with runs answering payload questions
    without entering the sandbox (`_Instance`)."""

    _validated: set[type] = field(default_factory=set, init=False, compare=False, repr=False)

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        if defn.cls not in self._validated:
            super().prepare_workflow(defn)
            self._validated.add(defn.cls)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Instance(det, self.runner_class, self.restrictions)


@functools.cache
def sandbox(passthrough_modules: tuple[str, ...] = ()) -> SandboxedWorkflowRunner:
    return _ValidatingOnce(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            *PASSTHROUGH_MODULES, *passthrough_modules
        )
    )


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
    first: their last tasks may still be asking a gate)."""

    def __init__(self, functions: Worker, gates: Worker) -> None:
        self.functions = functions
        self.gates = gates

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
    **options: Any,
) -> Workers:
    """Workers for every function in the dispatcher's registry. `activities`: the application's
    activity callables (see `activity_methods`); the engine adds its own. `gate_probe`: how soon
    the permit of a run that is gone (terminated, timed out, reset) is given to the next."""
    registry = dispatcher.router.registry
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
        **{**FUNCTION_POLLING, **options},
    )
    gates = Worker(
        client,
        task_queue=gate_queue(task_queue),
        workflows=[GateWorkflow],
        activities=activity_methods([gate_activities]),
        workflow_runner=runner,
    )
    return Workers(functions, gates)
