"""Small functions, events and steps the engine tests run: nothing of the application.

Steps record what they did in a JSON-lines journal (its path in ENGINE_TEST_JOURNAL, so worker
processes write to the same one as the test reading it)."""

import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from inngest_temporal import (
        Backoff,
        CamelModel,
        Concurrency,
        Event,
        FunctionFailed,
        Match,
        Pipeline,
        Throttle,
        function,
        local_activity,
    )


class Key(CamelModel):
    key: str


class Ping(Event):
    name: Literal["test/ping"] = "test/ping"
    data: Key


class Pong(Event):
    name: Literal["test/pong"] = "test/pong"
    data: Key


class Stop(Event):
    name: Literal["test/stop"] = "test/stop"
    data: Key


class Gated(Event):
    name: Literal["test/gated"] = "test/gated"
    data: Key


class Flaky(Event):
    name: Literal["test/flaky"] = "test/flaky"
    data: Key


class Entry(BaseModel):
    function: str
    step: str
    key: str
    seconds: float = 0.0


def journal_path() -> Path:
    return Path(os.environ["ENGINE_TEST_JOURNAL"])


def journal() -> list[dict[str, Any]]:
    path = journal_path()
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


class ToyActivities:
    @local_activity
    @activity.defn(name="toy-record")
    async def record(self, entry: Entry) -> str:
        with journal_path().open("a") as out:
            out.write(json.dumps(entry.model_dump() | {"at": time.time(), "pid": os.getpid()}))
            out.write("\n")
        return entry.step

    @activity.defn(name="toy-work")
    async def work(self, entry: Entry) -> str:
        """An ordinary activity holding its run for a while (a permit, a slot)."""
        start = time.time()
        with journal_path().open("a") as out:
            out.write(
                json.dumps(entry.model_dump() | {"at": start, "pid": os.getpid(), "edge": "start"})
                + "\n"
            )
        await _sleep(entry.seconds)
        with journal_path().open("a") as out:
            out.write(
                json.dumps(
                    entry.model_dump() | {"at": time.time(), "pid": os.getpid(), "edge": "end"}
                )
                + "\n"
            )
        return entry.step

    @activity.defn(name="toy-fail")
    async def fail(self, entry: Entry) -> str:
        with journal_path().open("a") as out:
            out.write(
                json.dumps(
                    entry.model_dump() | {"at": time.time(), "attempt": activity.info().attempt}
                )
                + "\n"
            )
        raise RuntimeError(f"{entry.step} is broken")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def record(pipeline: Pipeline, function_id: str, step: str, key: str) -> str:
    return await pipeline.step.run(
        step, ToyActivities.record, Entry(function=function_id, step=step, key=key)
    )


@function(id="fan-out-a", trigger=Ping)
class FanOutA(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> str:
        return await record(self, "fan-out-a", "hello", event.data.key)


@function(id="fan-out-b", trigger=Ping)
class FanOutB(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> str:
        return await record(self, "fan-out-b", "hello", event.data.key)


@function(id="waiter", trigger=Ping, wait_for=[Match(Pong, "data.key")])
class Waiter(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> bool:
        await record(self, "waiter", "before-wait", event.data.key)
        await self.step.sleep("dawdle", timedelta(hours=1))
        pong = await self.step.wait_for_event("wait-for-pong", Pong, timeout=timedelta(days=1))
        return pong is not None


@function(id="cancellable", trigger=Ping, cancel_on=[Match(Stop, "data.key")])
class Cancellable(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> str:
        await record(self, "cancellable", "first", event.data.key)
        await self.step.sleep("nap", timedelta(days=1))
        return await record(self, "cancellable", "second", event.data.key)


@function(id="one-at-a-time", trigger=Gated, concurrency=Concurrency(limit=1, key="data.key"))
class OneAtATime(Pipeline):
    @workflow.run
    async def run(self, event: Gated) -> str:
        return await self.step.run(
            "hold",
            ToyActivities.work,
            Entry(function="one-at-a-time", step="hold", key=event.data.key, seconds=0.5),
        )


@function(id="sleeper", trigger=Gated, concurrency=Concurrency(limit=1, key="data.key"))
class Sleeper(Pipeline):
    """Holds its permit for a day (of the time-skipping server's time)."""

    @workflow.run
    async def run(self, event: Gated) -> str:
        await record(self, "sleeper", "holding", event.data.key)
        await self.step.sleep("hold-for-a-day", timedelta(days=1))
        return "done"


@function(id="two-a-second", trigger=Gated, throttle=Throttle(limit=2, period=timedelta(seconds=1)))
class TwoASecond(Pipeline):
    @workflow.run
    async def run(self, event: Gated) -> str:
        return await record(self, "two-a-second", "first-step", event.data.key)


@function(id="sender", trigger=Flaky)
class Sender(Pipeline):
    @workflow.run
    async def run(self, event: Flaky) -> list[str]:
        return await self.step.send_event("send-pong", Pong(data=Key(key=event.data.key)))


@function(id="defaults", trigger=Flaky)
class Defaults(Pipeline):
    """No retries declared: Inngest's 4 retries, backoff from about 15 s."""

    @workflow.run
    async def run(self, event: Flaky) -> str:
        return await self.step.run(
            "doomed",
            ToyActivities.fail,
            Entry(function="defaults", step="doomed", key=event.data.key),
        )


@function(
    id="declared",
    trigger=Flaky,
    retries=2,
    backoff=Backoff(min_delay=timedelta(seconds=1), max_delay=timedelta(seconds=5)),
)
class Declared(Pipeline):
    @workflow.run
    async def run(self, event: Flaky) -> str:
        return await self.step.run(
            "doomed",
            ToyActivities.fail,
            Entry(function="declared", step="doomed", key=event.data.key),
        )

    async def on_failure(self, failure: FunctionFailed) -> None:
        await record(
            self,
            "declared",
            f"on-failure {failure.data.error.message}",
            failure.data.event["data"]["key"],
        )


@function(id="failure-listener", trigger=FunctionFailed)
class FailureListener(Pipeline):
    @workflow.run
    async def run(self, failure: FunctionFailed) -> str:
        return await record(
            self, "failure-listener", f"{failure.data.function_id} failed", failure.data.run_id
        )


FUNCTIONS = (
    Sleeper,
    FanOutA,
    FanOutB,
    Waiter,
    Cancellable,
    OneAtATime,
    TwoASecond,
    Sender,
    Defaults,
    Declared,
    FailureListener,
)
