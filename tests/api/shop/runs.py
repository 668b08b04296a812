"""Waiting for the runs an API call started, through the event log the API serves."""

from typing import Any

from tests.api.accounts import event_run
from tests.api.conftest import Api
from tests.support import eventually
from tests.support import step_ids as steps_of


async def finished_run(api: Api, event_id: str, function_id: str) -> dict[str, Any]:
    """The function's run for the event, once it is no longer running."""

    async def probe() -> dict[str, Any] | None:
        run = await event_run(api, event_id, function_id)
        return run if run and run["status"] not in (None, "RUNNING") else None

    return await eventually(probe)


async def step_ids(api: Api, workflow_id: str) -> list[str]:
    """The run's steps as the Web UI names them (activity summaries)."""
    return await steps_of(api.client.get_workflow_handle(workflow_id))
