"""One pass over a workflow activation's payloads, where the SDK makes three each way.

On the way in, the SDK walks every activation three times (decode external-storage references,
fetch externally stored payloads, run the codec) and every completion three times on the way out
(codec, store externally, encode references), each walk a visitor awaiting every field of every
job or command. With no external storage configured (the engine never configures any), two of
the three walks change nothing: what remains is the codec's (encryption, when keys are given), and
without a codec nothing at all. The walks were an eighth of the worker's CPU in the signup
benchmark, more than the workflow code they surround.

`install()` puts these in place of the SDK's functions: with external storage configured, they
are the SDK's own. A reference payload arriving at a worker without external storage is still
refused, as the SDK refuses it, when there is a codec to walk for; without one it fails where
its conversion does."""

from collections.abc import Sequence

import temporalio.bridge.worker as bridge
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter
from temporalio.converter._data_converter import _has_reference_marker
from temporalio.converter._extstore import StorageOperationMetrics
from temporalio.worker._command_aware_visitor import CommandAwarePayloadVisitor

_SDK_DECODE = bridge.decode_activation
_SDK_ENCODE = bridge.encode_completion


def _visitor(headers: bool) -> CommandAwarePayloadVisitor:
    # As the SDK's own walks: search attributes are never encoded, headers as the worker says.
    return CommandAwarePayloadVisitor(skip_search_attributes=True, skip_headers=not headers)


async def decode_activation(
    activation: WorkflowActivation,
    data_converter: DataConverter,
    decode_headers: bool,
    storage_concurrency_limit: int,
) -> StorageOperationMetrics:
    if data_converter.external_storage is not None:
        return await _SDK_DECODE(
            activation, data_converter, decode_headers, storage_concurrency_limit
        )
    if data_converter.payload_codec is not None:

        async def decode(payloads: Sequence[Payload]) -> list[Payload]:
            if any(_has_reference_marker(p) for p in payloads):
                raise RuntimeError(
                    "[TMPRL1105] Detected externally stored payload(s) but external storage is "
                    "not configured."
                )
            return await data_converter._decode_payload_sequence(payloads)

        await _visitor(decode_headers).visit(bridge._Visitor(decode), activation)
    return StorageOperationMetrics()


async def encode_completion(
    completion: WorkflowActivationCompletion,
    data_converter: DataConverter,
    encode_headers: bool,
    storage_concurrency_limit: int,
) -> StorageOperationMetrics:
    if data_converter.external_storage is not None:
        return await _SDK_ENCODE(
            completion, data_converter, encode_headers, storage_concurrency_limit
        )
    if data_converter.payload_codec is not None:
        await _visitor(encode_headers).visit(
            bridge._Visitor(data_converter._encode_payload_sequence), completion
        )
    return StorageOperationMetrics()


def install() -> None:
    """Every workflow worker of this process walks its activations once (idempotent)."""
    bridge.decode_activation = decode_activation
    bridge.encode_completion = encode_completion
