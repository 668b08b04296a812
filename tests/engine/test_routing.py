"""The engine's routing semantics, with toy functions on the time-skipping server: fan-out, dedupe
(also while routing is pending), an event that arrives before its wait, cancel between steps,
`send_event` once under retries, and without waiting for its events' routing."""

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from inngest_temporal import Sessions
from inngest_temporal.store import EventRoute, StoredEvent
from tests.engine.conftest import engine_worker
from tests.engine.functions import (
    Cancellable,
    FanOutA,
    FanOutB,
    Flaky,
    Key,
    Ping,
    Pong,
    Sender,
    Stop,
    Waiter,
    journal,
)
from tests.support import unique


async def routes(sessions: Sessions, event_id: str) -> dict[str, str]:
    async with sessions() as session:
        rows = await session.scalars(select(EventRoute).where(EventRoute.event_id == event_id))
        return {r.function_id: r.action for r in rows}


async def test_an_event_starts_every_function_listening_once(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client, key = skipping_env.client, unique("k")
    async with engine_worker(client, sessions, task_queue, [FanOutA, FanOutB]) as sender:
        ping = Ping(id=unique("evt"), data=Key(key=key))
        accepted, routed = await sender.send([ping])
        again, _ = await sender.send([ping])
        for function_id in ("fan-out-a", "fan-out-b"):
            await client.get_workflow_handle(f"{function_id}-{ping.id}").result()

    assert routed and accepted.ids == again.ids == [ping.id] and not again.stored
    assert await routes(sessions, ping.id) == {"fan-out-a": "started", "fan-out-b": "started"}
    assert sorted(e["function"] for e in journal() if e["key"] == key) == ["fan-out-a", "fan-out-b"]


async def test_a_repeated_id_starts_nothing_while_its_routing_is_pending(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client, key = skipping_env.client, unique("k")
    async with engine_worker(client, sessions, task_queue, [FanOutA]) as sender:
        ping = Ping(id=unique("evt"), data=Key(key=key))
        async with sessions() as session, session.begin():
            pending = await sender.store(session, [ping])  # stored, not routed yet
        repeated, _ = await sender.send([ping])
        assert await routes(sessions, ping.id) == {}
        assert await sender.route(pending)
        await client.get_workflow_handle(f"fan-out-a-{ping.id}").result()

    assert not repeated.stored
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).where(StoredEvent.id == ping.id))
    assert stored == 1
    assert [e["function"] for e in journal() if e["key"] == key] == ["fan-out-a"]


async def test_an_event_that_arrives_before_the_wait_is_not_lost(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client, key = skipping_env.client, unique("k")
    async with engine_worker(client, sessions, task_queue, [Waiter]) as sender:
        await sender.send([Ping(data=Key(key=key))])
        # The run is in its hour-long sleep, not yet waiting, when the pong comes.
        _, routed = await sender.send([Pong(data=Key(key=key))])
        got_it = await result_of(skipping_env, f"waiter-{key}")

    assert routed and got_it is True


async def test_the_run_list_says_which_event_started_each_run(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    """A run of one event carries the event's id in its workflow id; a keyed run (one per key,
    started by whichever event came first) says which event in its summary."""
    client, key = skipping_env.client, unique("k")
    async with engine_worker(client, sessions, task_queue, [FanOutA, Waiter]) as sender:
        ping = Ping(id=unique("evt"), data=Key(key=key))
        await sender.send([ping])
        fan_out = await client.get_workflow_handle(f"fan-out-a-{ping.id}").describe()
        keyed = await client.get_workflow_handle(f"waiter-{key}").describe()

    assert await keyed.static_summary() == f"test/ping {ping.id}"
    assert fan_out.workflow_type == "fan-out-a" and await fan_out.static_summary() is None


async def test_a_cancel_ends_the_run_between_steps(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client, key = skipping_env.client, unique("k")
    async with engine_worker(client, sessions, task_queue, [Cancellable]) as sender:
        await sender.send([Ping(data=Key(key=key))])
        handle = client.get_workflow_handle(f"cancellable-{key}")
        while not any(e["key"] == key for e in journal()):
            await _tick()
        stop = Stop(id=unique("stop"), data=Key(key=key))
        await sender.send([stop])
        description = await handle.describe()
        while description.status == WorkflowExecutionStatus.RUNNING:
            await _tick()
            description = await handle.describe()

    assert description.status == WorkflowExecutionStatus.CANCELED
    assert [e["step"] for e in journal() if e["key"] == key] == ["first"]
    assert await routes(sessions, stop.id) == {"cancellable": "cancelled"}


class _FailAfterSending(ActivityInboundInterceptor):
    """The send step's first attempt stores and routes its event, then fails (a worker dying
    before it could report): the retry must send nothing new."""

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await super().execute_activity(input)
        info = activity.info()
        if info.activity_type == "send-events" and info.attempt == 1:
            raise RuntimeError("lost the answer")
        return result


class FailAfterSending(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _FailAfterSending(next)


async def test_send_event_sends_once_under_retries(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    client, key = skipping_env.client, unique("k")
    async with engine_worker(
        client, sessions, task_queue, [Sender], events=[Pong], interceptors=[FailAfterSending()]
    ) as sender:
        flaky = Flaky(id=unique("evt"), data=Key(key=key))
        await sender.send([flaky])
        [pong_id] = await result_of(skipping_env, f"sender-{flaky.id}")

    async with sessions() as session:
        pongs = (
            await session.scalars(
                select(StoredEvent.id).where(
                    StoredEvent.name == "test/pong", StoredEvent.data["key"].as_string() == key
                )
            )
        ).all()
    assert pongs == [pong_id]


async def test_a_sent_event_is_stored_at_once_and_reaches_its_runs_once_routed(
    skipping_env: WorkflowEnvironment,
    sessions: Sessions,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`step.send_event` answers once its events are stored, as Inngest's sendEvent does once its
    event API has them: the sending run does not wait for Temporal to deliver them."""
    client, key = skipping_env.client, unique("k")
    async with engine_worker(
        client, sessions, task_queue, [Sender, Waiter], events=[Pong]
    ) as sender:
        await sender.send([Ping(data=Key(key=key))])  # the run waiting for the pong
        released = asyncio.Event()
        calls = sender.router.calls

        def held(payload: dict[str, Any], **options: Any) -> list[Coroutine[Any, Any, Any]]:
            work = calls(payload, **options)
            return [_after(released, c) for c in work] if payload["name"] == "test/pong" else work

        monkeypatch.setattr(sender.router, "calls", held)
        flaky = Flaky(id=unique("evt"), data=Key(key=key))
        await sender.send([flaky])
        async with asyncio.timeout(30):
            [pong_id] = await result_of(skipping_env, f"sender-{flaky.id}")
        assert await routes(sessions, pong_id) == {}  # stored; its routing held back
        released.set()
        got_it = await result_of(skipping_env, f"waiter-{key}")

    assert got_it is True
    assert await routes(sessions, pong_id) == {"waiter": "signalled"}


async def _after(released: asyncio.Event, call: Coroutine[Any, Any, Any]) -> Any:
    await released.wait()
    return await call


async def _tick() -> None:
    await asyncio.sleep(0.05)


async def result_of(env: WorkflowEnvironment, workflow_id: str) -> Any:
    """A run's result, letting the time-skipping server skip its timers (a handle of a run the
    router started does not skip time by itself)."""
    handle = env.client.get_workflow_handle(workflow_id)
    while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        await env.sleep(timedelta(hours=1))
    return await handle.result()
