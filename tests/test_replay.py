"""Safe deploys: the recorded histories of every pipeline (tests/histories/, runs that ended and
runs parked mid-sleep and mid-wait) replay on today's code. A change that would break runs in
flight fails here; put it behind `workflow.patched(...)` and record again
(`python -m tests.histories.record`)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from application import FUNCTIONS
from inngest_temporal.gate import GateWorkflow
from inngest_temporal.sandbox import sandbox
from tests.conftest import TEST_BUILD_ID
from tests.fixtures import CONVERTER

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_pipeline_has_a_recorded_history() -> None:
    recorded = {path.name.split(".")[0] for path in HISTORIES}
    assert recorded == {f.spec.id for f in FUNCTIONS}


@pytest.mark.long
async def test_every_recorded_history_replays() -> None:
    replayer = Replayer(
        workflows=[*FUNCTIONS, GateWorkflow],
        data_converter=CONVERTER,
        workflow_runner=sandbox(),  # the workers' own
        build_id=TEST_BUILD_ID,
    )

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in HISTORIES:
            yield WorkflowHistory.from_json(path.stem, path.read_text())

    # One replayer for all: preparing the sandbox is the expensive part.
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    failures = {
        workflow_id: str(failure)
        for workflow_id, failure in results.replay_failures.items()
        if failure is not None
    }
    assert failures == {}
