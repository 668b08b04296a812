"""The engine's workflow sandbox: a worker loads each workflow module once (a file replaced on
disk under a running worker does not change the runs it starts next), the sandbox still refuses
what a workflow must not do on every run, and a run answers the SDK's per-payload questions (which
serialization context a payload of a command gets) without entering the sandbox, with the SDK's
own answers: a codec that reads the context sees the same contexts as under the SDK's stock
sandbox."""

import asyncio
import dataclasses
import importlib
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import temporalio.bridge.worker as bridge
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
)
from temporalio.worker.workflow_sandbox._runner import _Instance

import inngest_temporal.gate
from inngest_temporal import payload_passes
from inngest_temporal.gate import GateWorkflow
from inngest_temporal.sandbox import sandbox
from tests.conftest import TEST_BUILD_ID
from tests.engine import rendezvous
from tests.engine.sandbox_workflows import DrawsAUuid, Greeting, GreetsTwice, greet

VERSIONED = """
from temporalio import workflow

VERSION = {version!r}


@workflow.defn(name="reports-its-version")
class ReportsItsVersion:
    @workflow.run
    async def run(self) -> str:
        return VERSION
"""


async def versions_reported(
    env: WorkflowEnvironment, tmp_path: Path, runner: WorkflowRunner
) -> list[str]:
    """What a run reports before and after its module's file is replaced under the worker."""
    module_name = f"deployed_{uuid.uuid4().hex}"
    source = tmp_path / f"{module_name}.py"
    source.write_text(VERSIONED.format(version="first"))
    module = importlib.import_module(module_name)
    task_queue = f"tq-{uuid.uuid4()}"
    reported = []
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[module.ReportsItsVersion],
        workflow_runner=runner,
        build_id=TEST_BUILD_ID,
    ):
        for version in ("first", "second, deployed later"):
            source.write_text(VERSIONED.format(version=version))
            reported.append(
                await env.client.execute_workflow(
                    "reports-its-version", id=f"version-{uuid.uuid4()}", task_queue=task_queue
                )
            )
    return reported


async def test_a_worker_runs_the_code_it_started_with_when_files_change_under_it(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    stock = SandboxedWorkflowRunner(restrictions=sandbox().restrictions)

    assert await versions_reported(dev_env, tmp_path, sandbox()) == ["first", "first"]
    # The SDK's sandbox reads the module from disk for every run it starts.
    assert await versions_reported(dev_env, tmp_path, stock) == ["first", "second, deployed later"]


async def test_the_sandbox_refuses_nondeterminism_on_every_run_of_a_module(
    dev_env: WorkflowEnvironment,
) -> None:
    client = dev_env.client
    task_queue = f"tq-{uuid.uuid4()}"

    async def draw(held: bool) -> str:
        result: str = await client.execute_workflow(
            DrawsAUuid.run, held, id=f"draws-{uuid.uuid4()}", task_queue=task_queue
        )
        return result

    rendezvous.HOLDING.clear()
    rendezvous.GO_ON.clear()
    runner = sandbox(("tests.engine.rendezvous",))  # the runs and the test share its events
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[DrawsAUuid],
        workflow_runner=runner,
        build_id=TEST_BUILD_ID,
    ):
        first = await draw(held=False)
        # A run holds its activation open on one of the worker's threads while another run of
        # the same module runs a whole activation (and leaves it) on another; then the held run
        # draws. Runs of a module share its loaded modules, not whether each is running.
        held = asyncio.create_task(draw(held=True))
        await asyncio.to_thread(rendezvous.HOLDING.wait, 5)
        meanwhile = await draw(held=False)
        rendezvous.GO_ON.set()
        assert [first, meanwhile, await held] == ["refused"] * 3


class ContextRecorder(PayloadCodec, WithSerializationContext):
    """Passes payloads through unchanged, noting the context it was given for each."""

    def __init__(self, seen: list[str], context: SerializationContext | None = None) -> None:
        self.seen = seen
        self.context = context

    def with_context(self, context: SerializationContext) -> "ContextRecorder":
        return ContextRecorder(self.seen, context)

    def _note(self, direction: str) -> None:
        c = self.context
        if isinstance(c, ActivitySerializationContext):
            kind = "local activity" if c.is_local else "activity"
            self.seen.append(f"{direction} {kind} {c.activity_type} of {c.workflow_id}")
        elif isinstance(c, WorkflowSerializationContext):
            self.seen.append(f"{direction} workflow {c.workflow_id}")
        else:
            self.seen.append(f"{direction} {c!r}")

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self._note("encode")
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self._note("decode")
        return list(payloads)


@contextmanager
def sandbox_entries() -> Iterator[list[str]]:
    """Every snippet a run executes inside its sandbox."""
    entries: list[str] = []
    enter = _Instance._run_code

    def counted(self: _Instance, code: str, **extra_globals: Any) -> None:
        entries.append(code)
        enter(self, code, **extra_globals)

    _Instance._run_code = counted  # type: ignore[method-assign]
    try:
        yield entries
    finally:
        _Instance._run_code = enter  # type: ignore[method-assign]


async def run_once(env: WorkflowEnvironment, runner: WorkflowRunner) -> tuple[list[str], list[str]]:
    """Runs the workflow under `runner`; what the codec saw (workflow id normalised) and what
    entered the sandbox."""
    seen: list[str] = []
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=ContextRecorder(seen))
    config = env.client.config()
    config["data_converter"] = converter
    client = Client(**config)
    task_queue = f"tq-{uuid.uuid4()}"
    workflow_id = f"greets-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[GreetsTwice],
        activities=[greet],
        workflow_runner=runner,
        build_id=TEST_BUILD_ID,
    ):
        with sandbox_entries() as entries:
            result = await client.execute_workflow(
                GreetsTwice.run, Greeting(name="Ada"), id=workflow_id, task_queue=task_queue
            )
    assert result == ["Hello, Ada", "Hello, Ada"]
    return [s.replace(workflow_id, "<run>") for s in seen], entries


async def test_payload_questions_are_answered_outside_the_sandbox_as_the_sdk_would(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both sandboxes under the SDK's own three walks of each activation (the engine's workers
    # walk once: payload_passes), which ask the most questions.
    monkeypatch.setattr(bridge, "decode_activation", payload_passes._SDK_DECODE)
    monkeypatch.setattr(bridge, "encode_completion", payload_passes._SDK_ENCODE)
    stock = SandboxedWorkflowRunner(restrictions=sandbox().restrictions)
    ours, ours_entered = await run_once(dev_env, sandbox())
    theirs, theirs_entered = await run_once(dev_env, stock)

    # The same answers: each command's payloads carry its own context, as under the SDK's path.
    assert sorted(ours) == sorted(theirs)
    assert "encode local activity greet of <run>" in ours
    assert "encode activity greet of <run>" in ours
    assert "decode workflow <run>" in ours

    def questions(entries: list[str]) -> int:
        return sum("serialization_context" in e or "store_context" in e for e in entries)

    assert questions(theirs_entered) > 0  # the SDK asks inside the sandbox...
    assert questions(ours_entered) == 0  # ... the engine's runs answer outside it
    assert len(ours_entered) < len(theirs_entered) / 2


async def test_the_gates_module_is_sandboxed_without_loading_the_engines_package_again() -> None:
    """The gate's workflow lives in the engine's package, which workflows use passed through: its
    module is loaded into the sandbox on its own (restricted as any workflow module), not after a
    sandboxed copy of the package's __init__ and everything that imports (FastAPI, SQLAlchemy)."""
    runner = type(sandbox())(restrictions=sandbox().restrictions)  # fresh: nothing loaded yet
    runner.prepare_workflow(workflow._Definition.must_from_class(GateWorkflow))

    loaded = runner._importers["inngest_temporal.gate"].new_modules  # type: ignore[attr-defined]
    assert loaded["inngest_temporal.gate"] is not sys.modules["inngest_temporal.gate"]
    assert loaded["inngest_temporal.gate"].datetime is not datetime  # the sandbox's, restricted
    assert loaded["inngest_temporal"] is sys.modules["inngest_temporal"]  # passed through
    assert not [name for name in loaded if name.split(".")[0] in ("fastapi", "sqlalchemy")]
    # The host's package still holds the host's module.
    assert inngest_temporal.gate is sys.modules["inngest_temporal.gate"]
