"""Payload encryption: AES-256-GCM over every payload Temporal stores, with key rotation.

The wire format is the one of Temporal's samples (samples-python `encryption/`): the whole
serialized payload is encrypted into `nonce(12) || ciphertext+tag`, and the new payload carries
`encoding: binary/encrypted` and `encryption-key-id` in its metadata.

Keys come from one setting, `PAYLOAD_ENCRYPTION_KEY`: comma-separated base64 32-byte keys,
newest first. The newest encrypts; every listed key decrypts. Key ids are derived from the keys,
so rotating is "prepend a new key, keep the old ones until no history needs them".

Run `python -m inngest_temporal.codec` to print a new key.
"""

import base64
import binascii
import dataclasses
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

SETTING = "PAYLOAD_ENCRYPTION_KEY"
ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
_GENERATE_HINT = "python -m inngest_temporal.codec"


class CodecError(ValueError):
    """A payload this codec cannot decode (the codec server answers 400 for these)."""


class UnknownKeyError(CodecError):
    pass


class DecryptionError(CodecError):
    pass


def key_id_for(secret: bytes) -> str:
    # 32 bits of a hash of a 256-bit random key reveal nothing useful, and are enough to tell
    # a handful of live keys apart (parse_keys refuses collisions).
    return hashlib.sha256(secret).hexdigest()[:8]


@dataclass(frozen=True)
class EncryptionKey:
    key_id: str
    secret: bytes = field(repr=False)  # never in logs or tracebacks

    @classmethod
    def from_secret(cls, secret: bytes) -> "EncryptionKey":
        if len(secret) != KEY_BYTES:
            raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, not {len(secret)}")
        return cls(key_id_for(secret), secret)


def generate_key() -> str:
    """A new key for PAYLOAD_ENCRYPTION_KEY: base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _b64decode(text: str) -> bytes:
    # Accept standard and urlsafe alphabets, padded or not: operators paste from many tools.
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def parse_keys(value: str) -> list[EncryptionKey]:
    """Parse PAYLOAD_ENCRYPTION_KEY. Error messages name the entry, never echo key material."""
    if not value.strip():
        raise ValueError(f"{SETTING} is empty: set it to a key from `{_GENERATE_HINT}`")
    keys: list[EncryptionKey] = []
    entries = value.split(",")
    for position, entry in enumerate(entries, start=1):
        where = f"{SETTING} entry {position} of {len(entries)}"
        entry = entry.strip()
        if not entry:
            raise ValueError(f"{where} is empty (a stray comma?)")
        try:
            secret = _b64decode(entry)
        except (binascii.Error, ValueError):
            raise ValueError(f"{where} is not base64") from None
        if len(secret) != KEY_BYTES:
            raise ValueError(
                f"{where} decodes to {len(secret)} bytes; an AES-256 key is {KEY_BYTES} bytes "
                f"(make one with `{_GENERATE_HINT}`)"
            )
        key = EncryptionKey.from_secret(secret)
        if any(k.key_id == key.key_id for k in keys):
            raise ValueError(f"{where} repeats an earlier key")
        keys.append(key)
    return keys


class EncryptionCodec(PayloadCodec):
    """Encrypts with the first key; decrypts with whichever key the payload names."""

    def __init__(self, keys: Sequence[EncryptionKey]) -> None:
        super().__init__()
        if not keys:
            raise ValueError("EncryptionCodec needs at least one key")
        self._current = keys[0]
        self._aeads = {k.key_id: AESGCM(k.secret) for k in keys}

    @property
    def key_id(self) -> str:
        """The id new payloads are encrypted under."""
        return self._current.key_id

    @property
    def key_ids(self) -> list[str]:
        return list(self._aeads)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self._current.key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={
                "encoding": ENCODING,
                KEY_ID_METADATA: self._current.key_id.encode(),
            },
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        # Histories written before encryption was switched on stay readable.
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        aead = self._aeads.get(key_id)
        if aead is None:
            raise UnknownKeyError(
                f"payload is encrypted with key id {key_id!r}, which is not in {SETTING} "
                f"(known ids: {', '.join(self._aeads)}); keep retired keys listed after the "
                "newest one until no history needs them"
            )
        data = payload.data
        try:
            plain = aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
            raise DecryptionError(
                f"payload under key id {key_id} failed authentication: corrupted or altered"
            ) from None
        try:
            return Payload.FromString(plain)
        except DecodeError:
            raise DecryptionError(f"payload under key id {key_id} is not a payload") from None


def data_converter(keys: Sequence[EncryptionKey] | None) -> DataConverter:
    """The project's converter (pydantic), encrypting payloads and failure messages when keys
    are given. Client, workers and codec server must agree on the keys."""
    if not keys:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        # Failure message and stack trace are plain strings on the Failure proto, outside any
        # payload; this moves them into `encoded_attributes`, which the codec encrypts. Error
        # messages routinely quote inputs (emails, names).
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


if __name__ == "__main__":
    print(generate_key())
