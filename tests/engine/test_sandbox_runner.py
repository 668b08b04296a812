"""The engine's workflow sandbox: a run answers the SDK's per-payload questions (which
serialization context a payload of a command gets) without entering the sandbox, and the answers
are the SDK's own: a codec that reads the context sees the same contexts as under the SDK's
stock sandbox."""

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
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
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

from inngest_temporal.worker import sandbox


class Greeting(BaseModel):
    name: str


@activity.defn
async def greet(greeting: Greeting) -> str:
    return f"Hello, {greeting.name}"


@workflow.defn(name="greets-twice")
class GreetsTwice:
    @workflow.run
    async def run(self, greeting: Greeting) -> list[str]:
        timeout = timedelta(seconds=10)
        local = await workflow.execute_local_activity(
            greet, greeting, start_to_close_timeout=timeout
        )
        remote = await workflow.execute_activity(greet, greeting, start_to_close_timeout=timeout)
        return [local, remote]


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
    ):
        with sandbox_entries() as entries:
            result = await client.execute_workflow(
                GreetsTwice.run, Greeting(name="Ada"), id=workflow_id, task_queue=task_queue
            )
    assert result == ["Hello, Ada", "Hello, Ada"]
    return [s.replace(workflow_id, "<run>") for s in seen], entries


async def test_payload_questions_are_answered_outside_the_sandbox_as_the_sdk_would(
    dev_env: WorkflowEnvironment,
) -> None:
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
