"""Ingest benchmark (issue 2): N `user/signup.completed` events through `POST /api/events`, side
by side with starting exactly the runs those events start directly with the Temporal client,
against the same dev server and worker, in one run.

    python -m bench.ingest [--n 2000] [--order direct,api]

Both paths send the same shape of traffic: batches of --batch events, --concurrency batches in
flight, at most Settings.router_max_in_flight workflow starts in flight. An event counts as
accepted when its batch was sent; its runs' first step is the first ActivityTaskStarted in their
histories.
"""

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from application import build_registry
from bench.stack import Stack, running_stack
from events.users import SignupCompleted, SignupCompletedData
from inngest_temporal import FunctionSpec
from settings import Settings

settings = Settings(environment="development")
registry = build_registry(settings)

Send = Callable[[list[SignupCompleted]], Awaitable[None]]
UNLIMITED = 1_000_000


class Run(NamedTuple):
    function_id: str
    sent_at: float  # when the batch carrying its event was sent


@dataclass
class Phase:
    path: str
    events: int
    started: float  # epoch seconds, comparable with the server's event times (same machine)
    accepted_seconds: float  # until the last response / last start returned
    runs: dict[str, Run]  # by workflow id
    closed_after: list[float] | None = None  # seconds from the first send to each run's close
    completed_runs: int = 0
    statuses: Counter[str] | None = None
    latencies_ms: dict[str, list[float]] | None = None  # by function id, sorted
    cpu_seconds: dict[str, float] | None = None  # by process, first send to last close
    load_average: float = 0.0  # the machine's 1-minute load when the phase began (others' work too)


def signup_functions() -> list[FunctionSpec]:
    return list(registry.triggered_by.get(SignupCompleted.event_name, []))


def lifted_limits(functions: list[FunctionSpec]) -> dict[str, dict[str, dict[str, float]]]:
    """FUNCTION_OVERRIDES that lift throttles and concurrency limits, so that a limit meant for
    production (10 welcome emails a minute) does not dominate both paths."""
    overrides: dict[str, dict[str, dict[str, float]]] = {}
    for f in functions:
        if f.throttle is not None:
            overrides.setdefault(f.id, {})["throttle"] = {"limit": UNLIMITED, "period_seconds": 1}
        if f.concurrency is not None:
            overrides.setdefault(f.id, {})["concurrency"] = {"limit": UNLIMITED}
    return overrides


def make_events(count: int, tag: str) -> list[SignupCompleted]:
    return [
        SignupCompleted(
            id=f"{tag}-{i}",
            data=SignupCompletedData(
                user_id=f"{tag}-user-{i}",
                email=f"{tag}-{i}@example.com",
                name=f"Bench {i}",
                plan="pro",
            ),
        )
        for i in range(count)
    ]


def via_api(http: httpx.AsyncClient, api_url: str) -> Send:
    async def send(batch: list[SignupCompleted]) -> None:
        response = await http.post(f"{api_url}/api/events", json=[e.to_json() for e in batch])
        response.raise_for_status()

    return send


def direct(stack: Stack, functions: list[FunctionSpec]) -> Send:
    """The router's starts, made by the bench itself, with the router's cap on starts in flight."""
    in_flight = asyncio.Semaphore(settings.router_max_in_flight)

    async def start(f: FunctionSpec, event: SignupCompleted) -> None:
        async with in_flight:
            await stack.start_run(f, event)

    async def send(batch: list[SignupCompleted]) -> None:
        await asyncio.gather(*(start(f, e) for e in batch for f in functions))

    return send


async def drive(
    path: str,
    events: list[SignupCompleted],
    send: Send,
    functions: list[FunctionSpec],
    batch: int,
    concurrency: int,
) -> Phase:
    slots = asyncio.Semaphore(concurrency)
    runs: dict[str, Run] = {}

    async def one(chunk: list[SignupCompleted]) -> None:
        async with slots:
            now = time.time()
            for event in chunk:
                for f in functions:
                    runs[f.workflow_id(event.to_json())] = Run(f.id, now)
            await send(chunk)

    started = time.time()
    chunks = [events[i : i + batch] for i in range(0, len(events), batch)]
    await asyncio.gather(*(one(c) for c in chunks))
    return Phase(path, len(events), started, time.time() - started, runs)


async def wait_completed(client: Client, phase: Phase, types: list[str]) -> None:
    """Until every run of the phase that finishes by itself has closed (visibility, polled)."""
    since = datetime.fromtimestamp(phase.started, UTC).isoformat()
    names = ", ".join(f"'{t}'" for t in types)
    query = f"WorkflowType IN ({names}) AND StartTime >= '{since}'"
    expected = phase.events * len(types)
    deadline = time.monotonic() + 3600
    while True:
        total = (await client.count_workflows(query)).count
        running = (await client.count_workflows(f"{query} AND ExecutionStatus = 'Running'")).count
        if total >= expected and running == 0:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{phase.path}: {running} runs still running after an hour")
        await asyncio.sleep(0.5)
    statuses: Counter[str] = Counter()
    closed_after: list[float] = []
    async for execution in client.list_workflows(query):
        statuses[execution.status.name if execution.status else "UNKNOWN"] += 1
        if execution.close_time is not None:
            closed_after.append(execution.close_time.timestamp() - phase.started)
    phase.statuses = statuses
    phase.completed_runs = statuses["COMPLETED"]
    phase.closed_after = sorted(closed_after)


async def first_step_latencies(client: Client, phase: Phase, sample: int) -> None:
    """Event sent -> first ActivityTaskStarted, for a random sample of the phase's runs."""
    chosen = random.sample(sorted(phase.runs), min(sample, len(phase.runs)))
    slots = asyncio.Semaphore(20)
    latencies: dict[str, list[float]] = {}

    async def measure(workflow_id: str) -> None:
        run = phase.runs[workflow_id]
        async with slots:
            async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    started = event.event_time.ToDatetime(tzinfo=UTC).timestamp()
                    latencies.setdefault(run.function_id, []).append((started - run.sent_at) * 1000)
                    return

    await asyncio.gather(*(measure(w) for w in chosen))
    phase.latencies_ms = {f: sorted(values) for f, values in latencies.items()}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def report(api: Phase, direct: Phase) -> None:
    def figures(p: Phase) -> list[float]:
        latencies = sorted(x for values in (p.latencies_ms or {}).values() for x in values)
        closed = p.closed_after or []
        return [
            p.events / p.accepted_seconds,
            p.completed_runs / percentile(closed, 1.0),
            # A few runs retrying with minutes of backoff decide "all"; 99% shows the pace.
            p.completed_runs * 0.99 / percentile(closed, 0.99),
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
            sum((p.cpu_seconds or {}).values()) * 1000 / p.events,
        ]

    labels = ["events/s accepted", "runs completed/s", "  same, to 99% of runs"]
    labels += ["p50 sent->first step ms"]
    labels += ["p99 sent->first step ms", "CPU ms/event, all processes"]
    print(f"\n{'':28}{'API':>12}{'direct':>12}{'API/direct':>12}")
    for label, a, d in zip(labels, figures(api), figures(direct), strict=True):
        print(f"{label:28}{a:12.1f}{d:12.1f}{a / d:12.2f}")
    print("\np50 sent->first step ms by function (API / direct, runs sampled):")
    for function_id, values in (api.latencies_ms or {}).items():
        other = (direct.latencies_ms or {}).get(function_id, [])
        print(
            f"  {function_id:32}{percentile(values, 0.5):10.0f} / {percentile(other, 0.5):<10.0f}"
            f"({len(values)} / {len(other)})"
        )
    for p in (api, direct):
        cpu = ", ".join(f"{name} {used:.1f}" for name, used in (p.cpu_seconds or {}).items())
        print(
            f"{p.path}: {p.events} events accepted in {p.accepted_seconds:.1f}s; "
            f"{p.completed_runs} runs completed in {percentile(p.closed_after or [], 1.0):.1f}s "
            f"{dict(p.statuses or {})}; load average at start {p.load_average:.2f}"
            f"\n  CPU seconds until its last run closed: {cpu}"
        )


async def run_phase(
    stack: Stack,
    http: httpx.AsyncClient,
    path: str,
    count: int,
    functions: list[FunctionSpec],
    finishing: list[str],
    args: argparse.Namespace,
) -> Phase:
    send = via_api(http, stack.api_url) if path == "api" else direct(stack, functions)
    events = make_events(count, f"{path}-{uuid.uuid4().hex[:8]}")
    cpu_before = stack.cpu()
    load_average = os.getloadavg()[0]
    phase = await drive(path, events, send, functions, args.batch, args.concurrency)
    await wait_completed(stack.client, phase, finishing)
    stack.check_alive()
    phase.cpu_seconds = {name: used - cpu_before[name] for name, used in stack.cpu().items()}
    phase.load_average = load_average
    return phase


async def main(args: argparse.Namespace) -> None:
    functions = signup_functions()
    overrides = lifted_limits(functions)
    # A function that waits for a person's event (a verification click) does not finish by
    # itself: its runs count for acceptance and first-step latency, not for runs completed.
    finishing = [f.id for f in functions if not f.wait_for]
    order = args.order.split(",")
    print(f"machine: nproc={os.cpu_count()}  N={args.n} events per path  warm-up={args.warmup}")
    print(
        f"order: {' then '.join(order)}  batch={args.batch}  batches in flight={args.concurrency}"
    )
    print(f"functions on {SignupCompleted.event_name}: {', '.join(f.id for f in functions)}")
    print(f"  counted in runs completed/s: {', '.join(finishing)}")
    print(f"limits lifted for the bench (FUNCTION_OVERRIDES): {json.dumps(overrides)}")
    extra_env = {"FUNCTION_OVERRIDES": json.dumps(overrides)}
    async with (
        running_stack(extra_env, with_api=True) as stack,
        httpx.AsyncClient(timeout=300) as http,
    ):
        for path in order:
            await run_phase(stack, http, path, args.warmup, functions, finishing, args)
        print("warm-up done")
        phases: dict[str, Phase] = {}
        for path in order:
            phases[path] = await run_phase(stack, http, path, args.n, functions, finishing, args)
        for phase in phases.values():
            await first_step_latencies(stack.client, phase, args.sample)
    report(phases["api"], phases["direct"])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="events per path")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up events per path")
    parser.add_argument("--order", default="direct,api", choices=["direct,api", "api,direct"])
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--sample", type=int, default=200, help="runs per path for latency")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
