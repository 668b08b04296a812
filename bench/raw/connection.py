"""The raw rendition's Temporal client: the pydantic converter the activities' models need, and
the project's AES-GCM codec when PAYLOAD_ENCRYPTION_KEY is set (so the benchmark can show what
encryption costs on the raw side too)."""

import os

from temporalio.client import Client

from inngest_temporal.codec import SETTING, data_converter, parse_keys


async def connect() -> Client:
    keys = parse_keys(os.environ[SETTING]) if os.environ.get(SETTING) else None
    return await Client.connect(os.environ["TEMPORAL_ADDRESS"], data_converter=data_converter(keys))
