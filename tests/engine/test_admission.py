"""Admission: concurrency and throttle limits hold across two worker processes, operators'
overrides apply, a permit returns from a run that is gone (terminated, reset), and adding a
limit to a function leaves its runs in flight replaying as they ran."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from inngest_temporal import Event, FunctionOverride, Sessions, step_times
from inngest_temporal.permits import ThrottleSlot
from tests.conftest import TEST_BUILD_ID
from tests.engine.conftest import engine_worker
from tests.engine.functions import (
    FUNCTIONS,
    Gated,
    Key,
    OneAtATime,
    Ping,
    Sleeper,
    TwoASecond,
    journal,
)
from tests.engine.test_routing import result_of
from tests.engine.versions import PlainV1, PlainV2
from tests.support import unique
from tests.worker_processes import worker_processes


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def most_in_any_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < window) for i, start in enumerate(ordered))


def holds(function_id: str, key: str) -> list[tuple[float, float]]:
    entries = [e for e in journal() if e["function"] == function_id and e["key"] == key]
    starts = [e["at"] for e in entries if e.get("edge") == "start"]
    ends = [e["at"] for e in entries if e.get("edge") == "end"]
    return list(zip(sorted(starts), sorted(ends), strict=True))


@pytest.mark.long
async def test_limits_hold_across_two_worker_processes(
    partitioned_env: WorkflowEnvironment,
    database_url: str,
    sessions: Sessions,
    task_queue: str,
    journal_file: Path,
    tmp_path: Path,
) -> None:
    env = {"ENGINE_TEST_JOURNAL": str(journal_file)}
    program = ("-m", "tests.engine.worker_main")
    busy, quiet = unique("busy"), unique("quiet")
    client = partitioned_env.client
    # Two processes: a worker process of its own, and this one (each process its own
    # connections to the database; a process's start costs 3 s of CPU, the suite's time).
    async with (
        worker_processes(
            partitioned_env, database_url, task_queue, tmp_path, count=1, env=env, program=program
        ),
        engine_worker(client, sessions, task_queue, FUNCTIONS) as sender,
    ):
        events: list[Event] = [Gated(data=Key(key=busy)) for _ in range(4)]
        events.append(Gated(data=Key(key=quiet)))
        accepted, _ = await sender.send(events)
        handles = [
            client.get_workflow_handle(f"{f}-{event_id}")
            for event_id in accepted.ids
            for f in ("one-at-a-time", "two-a-second")
        ]
        await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)

    # Concurrency 1 per key: the busy key's holds never overlap; the quiet key did not wait
    # behind them (it was done before the busy key's last run began).
    busy_holds = holds("one-at-a-time", busy)
    assert most_at_once(busy_holds) == 1 and len(busy_holds) == 4
    [(_, quiet_end)] = holds("one-at-a-time", quiet)
    assert quiet_end < max(start for start, _ in busy_holds)
    # Throttle 2 per second: the two processes admitted no more than 2 runs in any second of
    # the server's clock (a run woken late by a busy machine can step closer to the next one:
    # the pace as the runs see it is tested on the time-skipping server below); all 5 ran.
    async with sessions() as session:
        slots = await session.scalars(
            select(ThrottleSlot.at).where(
                ThrottleSlot.gate_id.startswith(f"gate/{task_queue}/two-a-second/")
            )
        )
        admitted = [at.timestamp() for at in slots]
    first_steps = [e["at"] for e in journal() if e["function"] == "two-a-second"]
    assert len(admitted) == len(first_steps) == 5
    assert most_in_any_window(admitted, 1.0) == 2
    # Both processes took part.
    assert len({e["pid"] for e in journal()}) == 2


@pytest.mark.long
async def test_a_throttle_paces_first_steps_on_the_servers_clock(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """Throttled runs sleep to their slots on durable timers, slots kept on the server's clock
    (here the time-skipping server's): the pace holds in the time the runs see."""
    key, client = unique("k"), skipping_env.client
    async with engine_worker(client, sessions, task_queue, [TwoASecond]) as sender:
        accepted, _ = await sender.send([Gated(data=Key(key=key)) for _ in range(6)])
        handles = [client.get_workflow_handle(f"two-a-second-{i}") for i in accepted.ids]
        await asyncio.gather(*(h.result() for h in handles))
        first_steps = []
        for handle in handles:
            offset = dict(await step_times(handle))["first-step"]
            first_steps.append(((await handle.describe()).start_time + offset).timestamp())

    assert most_in_any_window(first_steps, 1.0) == 2
    assert 2.0 <= max(first_steps) - min(first_steps) < 4.0  # three windows, none wasted


async def test_an_operators_override_changes_the_limit(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    key = unique("k")
    overrides = {"one-at-a-time": FunctionOverride.model_validate({"concurrency": {"limit": 2}})}
    client = skipping_env.client
    async with engine_worker(
        client, sessions, task_queue, [OneAtATime], overrides=overrides
    ) as sender:
        accepted, _ = await sender.send([Gated(data=Key(key=key)) for _ in range(4)])
        for event_id in accepted.ids:
            await result_of(skipping_env, f"one-at-a-time-{event_id}")

    assert most_at_once(holds("one-at-a-time", key)) == 2


async def holding_since(env: WorkflowEnvironment, workflow_id: str) -> datetime | None:
    """When the run's first step (after its permit) began, on the server's clock."""
    handle = env.client.get_workflow_handle(workflow_id)
    offsets = dict(await step_times(handle))
    if "holding" not in offsets:
        return None
    return (await handle.describe()).start_time + offsets["holding"]


async def wait_until_sleeping(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the run's task is done and it sleeps. A run terminated with a task in flight stops
    the time-skipping server's clock for good (each `env.sleep` then takes as long in real time,
    seen here: 10 s for 10 s), which made this test take 40 s now and then."""
    while True:
        events = [e async for e in handle.fetch_history_events()]
        if any(e.HasField("timer_started_event_attributes") for e in events):
            return
        await asyncio.sleep(0.05)


async def wait_for_hold(key: str, count: int) -> None:
    while len([e for e in journal() if e["key"] == key and e["step"] == "holding"]) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def test_a_permit_returns_from_a_terminated_run_within_a_minute(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    key, client = unique("k"), skipping_env.client
    async with engine_worker(client, sessions, task_queue, [Sleeper]) as sender:
        first, second = (
            Gated(id=unique("first"), data=Key(key=key)),
            Gated(id=unique("second"), data=Key(key=key)),
        )
        await sender.send([first])
        await wait_for_hold(key, 1)
        await sender.send([second])
        holder = client.get_workflow_handle(f"sleeper-{first.id}")
        await wait_until_sleeping(holder)
        await holder.terminate("an operator stopped it")
        terminated = datetime.now(UTC)
        waiting = f"sleeper-{second.id}"
        while await holding_since(skipping_env, waiting) is None:
            await skipping_env.sleep(timedelta(seconds=10))
        given = await holding_since(skipping_env, waiting)
        await wait_for_hold(key, 2)

    assert given is not None
    gate_time = given - terminated  # the server's clock has skipped ahead of ours
    assert gate_time < timedelta(seconds=60) + (
        await skipping_env.get_current_time() - datetime.now(UTC)
    )


async def test_a_run_reset_to_before_its_admission_is_admitted_again(
    dev_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """On the dev server (the time-skipping one cannot reset), its gate checking every second."""
    key, client = unique("k"), dev_env.client
    async with engine_worker(
        client, sessions, task_queue, [Sleeper], gate_probe=timedelta(seconds=1)
    ) as sender:
        held = Gated(id=unique("held"), data=Key(key=key))
        await sender.send([held])
        await wait_for_hold(key, 1)
        handle = client.get_workflow_handle(f"sleeper-{held.id}")
        completed: list[int] = []
        while not completed:  # its first task may still be completing (the step is local)
            completed = [
                e.event_id
                async for e in handle.fetch_history_events()
                if e.HasField("workflow_task_completed_event_attributes")
            ]
            await asyncio.sleep(0.05)
        await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=handle.id),
                reason="replay the admission",
                workflow_task_finish_event_id=completed[0],
                request_id=unique("reset"),
            )
        )
        # The new run asks again; the old run is gone, so the permit comes back to it.
        await asyncio.wait_for(wait_for_hold(key, 2), 30)


async def test_adding_a_limit_keeps_runs_in_flight_replaying(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client = skipping_env.client
    async with engine_worker(client, sessions, task_queue, [PlainV1]) as sender:
        ping = Ping(id=unique("evt"), data=Key(key=unique("k")))
        await sender.send([ping])
        handle = client.get_workflow_handle(f"plain-{ping.id}")
        await wait_until_sleeping(handle)
        history: WorkflowHistory = await handle.fetch_history()
        await handle.terminate("test over")

    replayer = Replayer(
        workflows=[PlainV2], data_converter=client.data_converter, build_id=TEST_BUILD_ID
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
