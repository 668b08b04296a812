"""The engine's one walk over an activation's payloads (inngest_temporal/payload_passes.py) does
what the SDK's three did where no external storage is configured: the codec decodes what comes in
and encodes what goes out, and a payload stored elsewhere is refused. (That a whole run through
the engine's workers keeps its history encrypted: tests/api/trust/test_personal_data.py.)"""

from pathlib import Path

import pytest
import temporalio.bridge.worker as bridge
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.activity_result import ActivityResolution
from temporalio.bridge.proto.activity_result import Success as ActivitySuccess
from temporalio.bridge.proto.workflow_activation import (
    ResolveActivity,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.bridge.proto.workflow_commands import ScheduleLocalActivity, WorkflowCommand
from temporalio.bridge.proto.workflow_completion import Success, WorkflowActivationCompletion
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from inngest_temporal import create_engine, payload_passes, session_factory
from inngest_temporal.codec import ENCODING, data_converter, generate_key, parse_keys
from inngest_temporal.payload_passes import decode_activation, encode_completion
from tests.engine.conftest import engine_worker

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email":"ada@example.com"}')
# What the SDK marks a payload kept in external storage with (temporalio.converter._extstore).
STORED_ELSEWHERE = {"__temporal_external_storage_reference": b"true"}
ENCRYPTING = data_converter(parse_keys(generate_key()))


def resolved(payload: Payload) -> WorkflowActivation:
    success = ActivitySuccess(result=payload)
    job = ResolveActivity(seq=1, result=ActivityResolution(completed=success))
    return WorkflowActivation(run_id="run", jobs=[WorkflowActivationJob(resolve_activity=job)])


def scheduling(payload: Payload) -> WorkflowActivationCompletion:
    command = ScheduleLocalActivity(seq=2, activity_id="2", activity_type="a", arguments=[payload])
    return WorkflowActivationCompletion(
        run_id="run",
        successful=Success(commands=[WorkflowCommand(schedule_local_activity=command)]),
    )


def result_of(activation: WorkflowActivation) -> Payload:
    return activation.jobs[0].resolve_activity.result.completed.result


def argument_of(completion: WorkflowActivationCompletion) -> Payload:
    return completion.successful.commands[0].schedule_local_activity.arguments[0]


async def test_the_codec_encodes_what_goes_out_and_decodes_what_comes_in() -> None:
    completion = scheduling(PLAIN)
    await encode_completion(completion, ENCRYPTING, True, 1)
    encrypted = argument_of(completion)
    assert encrypted.metadata["encoding"] == ENCODING
    assert b"ada@example.com" not in encrypted.SerializeToString()

    activation = resolved(encrypted)
    await decode_activation(activation, ENCRYPTING, True, 1)
    assert result_of(activation) == PLAIN


async def test_without_a_codec_payloads_pass_untouched() -> None:
    completion, activation = scheduling(PLAIN), resolved(PLAIN)
    await encode_completion(completion, pydantic_data_converter, True, 1)
    await decode_activation(activation, pydantic_data_converter, True, 1)
    assert argument_of(completion) == PLAIN and result_of(activation) == PLAIN


async def test_a_payload_stored_elsewhere_is_refused() -> None:
    reference = Payload(metadata={**PLAIN.metadata, **STORED_ELSEWHERE}, data=b"{}")
    with pytest.raises(RuntimeError, match="TMPRL1105"):
        await decode_activation(resolved(reference), ENCRYPTING, True, 1)


async def test_the_engines_workers_take_the_one_walk(
    dev_env: WorkflowEnvironment, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge, "decode_activation", payload_passes._SDK_DECODE)
    monkeypatch.setattr(bridge, "encode_completion", payload_passes._SDK_ENCODE)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    async with engine_worker(dev_env.client, session_factory(engine), task_queue, []):
        assert bridge.decode_activation is decode_activation
        assert bridge.encode_completion is encode_completion
    await engine.dispose()
