"""Payload encryption: the codec on its own, key parsing, and a real Temporal run whose stored
history must not contain the email that went through it."""

import asyncio
import base64
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    # cryptography's native module cannot be re-imported inside the workflow sandbox.
    from inngest_temporal.codec import (
        ENCODING,
        KEY_ID_METADATA,
        DecryptionError,
        EncryptionCodec,
        EncryptionKey,
        UnknownKeyError,
        data_converter,
        generate_key,
        parse_keys,
    )
    from tests.conftest import TEST_BUILD_ID

EMAIL = "ada.lovelace@example.com"
NEW, OLD = parse_keys(f"{generate_key()},{generate_key()}")


def plain_payload(value: object) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([value])[0]


async def test_round_trip() -> None:
    converter = data_converter([NEW])
    encoded = await converter.encode([{"email": EMAIL, "plan": "pro"}])
    assert await converter.decode(encoded) == [{"email": EMAIL, "plan": "pro"}]


async def test_ciphertext_does_not_contain_the_plaintext() -> None:
    [encoded] = await EncryptionCodec([NEW]).encode([plain_payload({"email": EMAIL})])
    assert EMAIL.encode() not in encoded.SerializeToString()
    assert encoded.metadata["encoding"] == ENCODING
    assert encoded.metadata[KEY_ID_METADATA] == NEW.key_id.encode()


async def test_each_encryption_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec([NEW])
    payload = plain_payload(EMAIL)
    first, second = await codec.encode([payload, payload])
    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_a_payload_under_the_old_key_decodes_after_rotation() -> None:
    [under_old] = await EncryptionCodec([OLD]).encode([plain_payload(EMAIL)])
    rotated = EncryptionCodec([NEW, OLD])
    assert await rotated.decode([under_old]) == [plain_payload(EMAIL)]
    [fresh] = await rotated.encode([plain_payload(EMAIL)])
    assert fresh.metadata[KEY_ID_METADATA] == NEW.key_id.encode()
    assert rotated.key_id == NEW.key_id
    # ... and really under the new key: readable once the old one is retired.
    assert await EncryptionCodec([NEW]).decode([fresh]) == [plain_payload(EMAIL)]


async def test_an_unknown_key_id_is_a_clear_error() -> None:
    [under_old] = await EncryptionCodec([OLD]).encode([plain_payload(EMAIL)])
    with pytest.raises(UnknownKeyError, match=OLD.key_id) as caught:
        await EncryptionCodec([NEW]).decode([under_old])
    assert "PAYLOAD_ENCRYPTION_KEY" in str(caught.value)


async def test_an_altered_ciphertext_is_refused() -> None:
    [encoded] = await EncryptionCodec([NEW]).encode([plain_payload(EMAIL)])
    data = bytearray(encoded.data)
    data[-1] ^= 1
    encoded.data = bytes(data)
    with pytest.raises(DecryptionError, match="altered"):
        await EncryptionCodec([NEW]).decode([encoded])


async def test_an_unencrypted_payload_passes_through() -> None:
    # Histories written before encryption was switched on.
    before = plain_payload({"email": EMAIL})
    assert await EncryptionCodec([NEW]).decode([before]) == [before]


def test_parse_keys_accepts_standard_and_urlsafe_base64_newest_first() -> None:
    first, second = os.urandom(32), os.urandom(32)
    standard = base64.b64encode(first).decode()
    urlsafe_unpadded = base64.urlsafe_b64encode(second).decode().rstrip("=")
    keys = parse_keys(f" {standard} ,{urlsafe_unpadded}")
    assert [k.secret for k in keys] == [first, second]
    assert keys[0].key_id == hashlib.sha256(first).hexdigest()[:8]
    assert first.hex() not in repr(keys)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "PAYLOAD_ENCRYPTION_KEY is empty"),
        ("   ", "PAYLOAD_ENCRYPTION_KEY is empty"),
        ("{key},", "entry 2 of 2 is empty"),
        ("not a key!", "entry 1 of 1 is not base64"),
        (base64.b64encode(b"sixteen byte key").decode(), "decodes to 16 bytes"),
        ("{key},{key}", "entry 2 of 2 repeats an earlier key"),
    ],
)
def test_parse_keys_names_the_problem(value: str, message: str) -> None:
    key = generate_key()
    value = value.format(key=key)
    with pytest.raises(ValueError, match=message) as caught:
        parse_keys(value)
    assert key not in str(caught.value)


def test_generated_keys_are_fresh_valid_keys() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    assert len(parse_keys(first)[0].secret) == 32


def test_a_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptionKey.from_secret(b"short")


def test_without_keys_the_converter_is_the_plain_pydantic_one() -> None:
    assert data_converter(None) is pydantic_data_converter
    assert data_converter([]) is pydantic_data_converter
    encrypted = data_converter([NEW])
    assert isinstance(encrypted.payload_codec, EncryptionCodec)
    assert isinstance(encrypted.failure_converter, DefaultFailureConverterWithEncodedAttributes)


# A real run: the email goes in as input, through an activity, back out as the result, and into
# a failed activity's error message.


class Signup(BaseModel):
    email: str


@activity.defn(name="codec-test-welcome")
async def welcome(signup: Signup) -> str:
    return f"welcome {signup.email}"


@activity.defn(name="codec-test-bounce")
async def bounce(signup: Signup) -> str:
    raise ApplicationError(f"no mailbox for {signup.email}", non_retryable=True)


@workflow.defn(name="codec-test-signup")
class SignupWorkflow:
    @workflow.run
    async def run(self, signup: Signup, activity_name: str) -> str:
        result: str = await workflow.execute_activity(
            activity_name,
            signup,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


def temporal_test_server() -> str:
    return shutil.which("temporal-test-server") or "/work/main/.venv/bin/temporal-test-server"


@pytest.fixture
async def encrypted_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(),
        data_converter=data_converter([NEW, OLD]),
    )
    yield env
    await env.shutdown()


async def run_signup(env: WorkflowEnvironment, activity_name: str) -> tuple[str, History]:
    """Run the workflow with the encrypting client; answer its id and the history as stored."""
    task_queue = f"tq-{uuid.uuid4()}"
    workflow_id = f"signup-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[SignupWorkflow],
        activities=[welcome, bounce],
        build_id=TEST_BUILD_ID,
    ):
        handle = await env.client.start_workflow(
            SignupWorkflow.run,
            args=[Signup(email=EMAIL), activity_name],
            id=workflow_id,
            task_queue=task_queue,
        )
        try:
            # A payload the worker cannot decode fails workflow tasks forever (and stops the
            # skipped clock): fail the test rather than hang.
            async with asyncio.timeout(30):
                await handle.result()
        except WorkflowFailureError:
            pass
    # The same server seen by a client without the codec: what anyone reading the store sees.
    plain = Client(env.client.service_client, namespace=env.client.namespace)
    history = await plain.get_workflow_handle(workflow_id).fetch_history()
    return workflow_id, History(events=history.events)


async def test_a_temporal_history_stores_no_plaintext(encrypted_env: WorkflowEnvironment) -> None:
    workflow_id, history = await run_signup(encrypted_env, "codec-test-welcome")

    assert EMAIL.encode() not in history.SerializeToString()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.input.payloads[0].metadata["encoding"] == ENCODING
    # The encrypting client reads everything back.
    decoded = await encrypted_env.client.data_converter.decode(started.input.payloads, [Signup])
    assert decoded[0] == Signup(email=EMAIL)
    result = await encrypted_env.client.get_workflow_handle(workflow_id).result()
    assert result == f"welcome {EMAIL}"


async def test_an_activity_failure_message_is_encrypted(
    encrypted_env: WorkflowEnvironment,
) -> None:
    workflow_id, history = await run_signup(encrypted_env, "codec-test-bounce")

    assert EMAIL.encode() not in history.SerializeToString()
    [failed] = [e for e in history.events if e.HasField("activity_task_failed_event_attributes")]
    assert failed.activity_task_failed_event_attributes.failure.message == "Encoded failure"
    # The encrypting client sees the real message.
    with pytest.raises(WorkflowFailureError) as caught:
        await encrypted_env.client.get_workflow_handle(workflow_id).result()
    assert isinstance(caught.value.cause, ActivityError)
    assert isinstance(caught.value.cause.cause, ApplicationError)
    assert caught.value.cause.cause.message == f"no mailbox for {EMAIL}"
