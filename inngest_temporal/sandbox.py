"""The workflow sandbox the engine's workers run functions in: the SDK's, with each workflow module
loaded once per worker instead of once per run, and runs answering the SDK's per-payload
questions without entering the sandbox.

The SDK's sandbox re-imports a run's workflow module for every run it starts: the module's body
runs again (each `@function` and `@workflow.defn` inspecting the class, each pydantic model
building its schema) and its source is read from disk again. In the signup benchmark that was a
quarter of the worker's CPU, and it means a worker picks up whatever file is on disk when a run
starts, so a deploy that replaces files under a running worker mixes versions (sdk-python#607).

Here the modules a workflow module's import loads into a sandbox are kept per workflow module
and handed to each new run: the module runs once, when its first run (or the worker's validation
of it) starts. What the sandbox is for stays: the modules seen from inside are the sandbox's own
copies with their restricted members (a run calling `datetime.now()` or `random.random()` still
fails its task), and the restricted builtins apply as before. What changes is that runs of one
workflow module share its module-level state, as any Python module's users do: a function keeps
its state on its instance, never in module globals (none of the engine's or the application's
modules do).

Whether a restricted call is refused depends on whether the sandbox is importing or running a
workflow, which the SDK keeps on the sandbox's restriction context. Runs of one module now share
that context while their activations run at the same time on different threads, so it is kept per
thread: each activation sets and clears its own thread's flags."""

import functools
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from temporalio import workflow
from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._importer import Importer
from temporalio.worker.workflow_sandbox._restrictions import RestrictionContext
from temporalio.worker.workflow_sandbox._runner import _Instance as SandboxInstance

# Pure libraries event models use: loaded once, not re-imported into every workflow sandbox.
PASSTHROUGH_MODULES = (
    "pydantic",
    "pydantic_core",
    "email_validator",
    "idna",
    "ulid",
    "cryptography",
)
# The engine itself: its step tools run inside workflows but keep no run's state in modules.
# Passed through as a package, so that loading the gate's workflow module (in the package) in a
# sandbox does not first load the package's own __init__ there, with everything it imports (the
# API's and the database's libraries: 1.3 s of CPU and 25 MiB per worker, measured).
ENGINE_PACKAGE = __name__.partition(".")[0]


class _PerThreadContext(RestrictionContext):
    """The sandbox's "importing or running" flags, per thread (see the module's docstring)."""

    def __init__(self) -> None:
        self._flags = threading.local()
        super().__init__()

    @property
    def is_runtime(self) -> bool:
        runtime: bool = getattr(self._flags, "is_runtime", False)
        return runtime

    @is_runtime.setter
    def is_runtime(self, value: bool) -> None:
        self._flags.is_runtime = value

    @property
    def in_activation(self) -> bool:
        in_activation: bool = getattr(self._flags, "in_activation", False)
        return in_activation

    @in_activation.setter
    def in_activation(self, value: bool) -> None:
        self._flags.in_activation = value


class _Importer(Importer):
    """The SDK's importer, except that a workflow module is loaded in the sandbox even when its
    package is passed through (the gate's module, in the engine's package)."""

    def module_configured_passthrough(self, name: str) -> bool:
        return name != self._workflow_module_name and super().module_configured_passthrough(name)


class _Instance(SandboxInstance):
    """A run in the sandbox, importing its workflow module through its module's shared importer,
    and answering the SDK's per-payload questions (which serialization and external-storage
    context a payload of a command gets) by asking the run's state directly.

    The SDK enters the sandbox for each of those questions (compiling and executing a snippet
    with the sandbox's importer applied), three times per payload sequence on the way in and
    three on the way out of every activation: about 8% of the worker's CPU in the signup
    benchmark. The answer is plain reads of the run's pending commands by SDK code passed
    through to the sandbox, which imports nothing."""

    def __init__(
        self,
        instance_details: WorkflowInstanceDetails,
        runner_class: type[WorkflowRunner],
        importer: Importer,
    ) -> None:
        # The SDK's __init__, with the importer given instead of a new one per run.
        self.instance_details = instance_details
        self.runner_class = runner_class
        self.importer = importer
        self._current_thread_id: int | None = None
        self.globals_and_locals = {"__file__": "workflow_sandbox.py"}
        self._create_instance()

    @property
    def _in_sandbox(self) -> Any:
        # Exists once __init__ returns (_create_instance creates it).
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
class _ModulesOnce(SandboxedWorkflowRunner):
    """The sandbox, loading each workflow module once (an importer per module, whose modules
    every run of it shares) and validating each workflow class once per process (validation runs
    the class in a sandbox of its own, tenths of a second each, and answers the same for every
    worker a process builds; a test suite builds one per test)."""

    _validated: set[type] = field(default_factory=set, init=False, compare=False, repr=False)
    _importers: dict[str, Importer] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        if defn.cls not in self._validated:
            super().prepare_workflow(defn)
            self._validated.add(defn.cls)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        # Instances are created on the worker's event loop, one at a time: the first run of a
        # module imports it before any other run can ask for its importer.
        module = det.defn.cls.__module__
        importer = self._importers.get(module)
        if importer is not None:
            return _Instance(det, self.runner_class, importer)
        # The SDK imports a workflow class of __main__ from the same file under this name.
        name = "__temporal_main__" if module == "__main__" else module
        importer = self._importers[module] = _Importer(self.restrictions, _PerThreadContext(), name)
        instance = _Instance(det, self.runner_class, importer)  # loads the module
        _keep_host_submodule(module)
        return instance


def _keep_host_submodule(module: str) -> None:
    """Python's import sets each module it loads as an attribute of its package: loading a
    workflow module whose package is passed through (the gate's) put the sandbox's copy on the
    host's package. The host's own module goes back."""
    package, _, child = module.rpartition(".")
    if package in sys.modules and module in sys.modules:
        setattr(sys.modules[package], child, sys.modules[module])


@functools.cache
def sandbox(passthrough_modules: tuple[str, ...] = ()) -> SandboxedWorkflowRunner:
    return _ModulesOnce(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            *PASSTHROUGH_MODULES, ENGINE_PACKAGE, *passthrough_modules
        )
    )
