"""The API's process keeps what it holds for its life out of the cyclic collector's full passes
(api/main.py: gc.freeze at start-up)."""

import gc

from temporalio.testing import WorkflowEnvironment

from api.main import freeze_startup_heap
from inngest_temporal import Sessions
from settings import Settings
from tests.api.conftest import running_api


async def test_the_api_freezes_its_start_up_heap(
    dev_env: WorkflowEnvironment, sessions: Sessions, api_settings: Settings
) -> None:
    # As a fresh process: nothing frozen yet.
    gc.unfreeze()
    freeze_startup_heap.cache_clear()
    async with running_api(api_settings, dev_env.client, sessions):
        assert gc.get_freeze_count() > 0
