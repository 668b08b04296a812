"""The benchmark's reading of a history (no timing asserted): counts and where the time went."""

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskStartedEventAttributes,
    HistoryEvent,
    MarkerRecordedEventAttributes,
    WorkflowTaskCompletedEventAttributes,
    WorkflowTaskStartedEventAttributes,
)

from bench.drive import percentile
from bench.histories import shape

T = EventType


def at(ms: int, event_id: int, event_type: int, **attributes: object) -> HistoryEvent:
    return HistoryEvent(
        event_id=event_id,
        event_type=event_type,  # type: ignore[arg-type]
        event_time=Timestamp(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000),
        **attributes,  # type: ignore[arg-type]
    )


def test_a_run_with_a_local_and_an_ordinary_activity() -> None:
    events = [
        at(0, 1, T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        at(0, 2, T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
        at(5, 3, T.EVENT_TYPE_WORKFLOW_TASK_STARTED,
           workflow_task_started_event_attributes=WorkflowTaskStartedEventAttributes(
               scheduled_event_id=2)),
        at(25, 4, T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
           workflow_task_completed_event_attributes=WorkflowTaskCompletedEventAttributes(
               started_event_id=3)),
        at(25, 5, T.EVENT_TYPE_MARKER_RECORDED,
           marker_recorded_event_attributes=MarkerRecordedEventAttributes(
               marker_name="core_local_activity")),
        at(25, 6, T.EVENT_TYPE_MARKER_RECORDED,
           marker_recorded_event_attributes=MarkerRecordedEventAttributes(
               marker_name="core_patch")),
        at(25, 7, T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        at(35, 8, T.EVENT_TYPE_ACTIVITY_TASK_STARTED,
           activity_task_started_event_attributes=ActivityTaskStartedEventAttributes(
               scheduled_event_id=7)),
        at(45, 9, T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
           activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(
               started_event_id=8)),
        at(60, 10, T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
    ]  # fmt: skip
    run = shape(events)
    assert run.events == 10
    assert run.start_to_close_ms == 60
    assert run.counts["workflow tasks"] == 1
    assert run.counts["activity tasks"] == 1
    assert run.counts["local activities"] == 1
    assert run.counts["patch markers"] == 1
    assert run.phases_ms == {
        "workflow task queued": 5,
        "workflow task running": 20,
        "activity queued": 10,
        "activity running": 10,
    }


def test_an_open_run_has_no_start_to_close() -> None:
    assert shape([at(0, 1, T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)]).start_to_close_ms is None


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
