"""The Temporal connection, configured the way the Temporal CLI is (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings, profiles in temporal.toml)."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfig

DEFAULT_ADDRESS = "127.0.0.1:7233"


async def connect_temporal(
    data_converter: DataConverter = pydantic_data_converter, *, lazy: bool = False
) -> Client:
    """`lazy`: connect on first use, so a process whose Temporal is down still starts (the API
    keeps accepting events into the log)."""
    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", DEFAULT_ADDRESS)
    return await Client.connect(**config, data_converter=data_converter, lazy=lazy)
