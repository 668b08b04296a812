"""Sleeping trials (issue 11): what 100,000 `manage-trial-workflow` runs asleep at their 7-day timer
cost one worker process and one fresh dev server, and how fast they can be started.

    python -m bench.sleeping_trials [--n 100000] [--in-flight 200] [--every 10]

The runs are started directly with the Temporal client, as the router would start them for
`user/trial.started` (workflow id from FunctionSpec.workflow_id), by --in-flight concurrent
starters. Their users exist in the app database first, because the trial's first step
(`load-user`) reads them. While they start, a line every --every seconds shows the worker's and
the server's memory and the server's database: the worker keeps at most
WORKER_MAX_CACHED_WORKFLOWS runs in memory, so its RSS should flatten once that cache is full.
"""

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from application import build_registry
from bench.asleep import wait_all_asleep, workflow_backlog
from bench.processes import rss_bytes
from bench.stack import Stack, running_stack
from db.models import User
from events.users import TrialStarted, TrialStartedData
from inngest_temporal import create_engine, session_factory
from settings import Settings

# The benchmark's own settings: its processes get theirs from the environment it gives them.
settings = Settings(environment="development")

FUNCTION_ID = "manage-trial-workflow"
MIB = 1024 * 1024
USERS_PER_INSERT = 5_000


async def create_users(database_url: str, user_ids: list[str]) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            for i in range(0, len(user_ids), USERS_PER_INSERT):
                rows = [
                    {"id": u, "email": f"{u}@example.com", "name": f"Trial {u}", "plan": "pro"}
                    for u in user_ids[i : i + USERS_PER_INSERT]
                ]
                await session.execute(insert(User), rows)
            await session.commit()
    finally:
        await engine.dispose()


def snapshot(stack: Stack) -> dict[str, float]:
    figures = {"worker RSS MiB": rss_bytes(stack.services["worker"].pid) / MIB}
    if "temporal" in stack.services:
        figures["dev server RSS MiB"] = rss_bytes(stack.services["temporal"].pid) / MIB
    db_bytes = stack.server_db_bytes()
    if db_bytes is not None:
        figures["server DB MiB (file+wal+shm)"] = db_bytes / MIB
    return figures


class Progress:
    """Counts started runs; prints memory, disk and the start rate every `every` seconds."""

    def __init__(self, stack: Stack, every: float) -> None:
        self.stack, self.every = stack, every
        self.started = 0
        self.began = time.monotonic()
        self.peak_worker_rss = 0.0

    async def report_forever(self) -> None:
        head = f"{'s':>6}{'started':>10}{'starts/s':>10}{'backlog':>9}  "
        print(head + "  ".join(snapshot(self.stack)))
        last_t, last_n = self.began, 0
        while True:
            await asyncio.sleep(self.every)
            now, n = time.monotonic(), self.started
            figures = snapshot(self.stack)
            # Workflow tasks not yet taken by the worker: started runs not yet at their timer.
            backlog = await workflow_backlog(self.stack.client, self.stack.task_queue)
            self.peak_worker_rss = max(self.peak_worker_rss, figures["worker RSS MiB"])
            cells = "  ".join(f"{v:>{len(k)}.1f}" for k, v in figures.items())
            rate = (n - last_n) / (now - last_t)
            line = f"{now - self.began:6.0f}{n:10d}{rate:10.0f}{backlog:9d}  {cells}"
            print(line, flush=True)
            last_t, last_n = now, n


async def start_all(stack: Stack, events: list[TrialStarted], progress: Progress, k: int) -> None:
    spec = build_registry(settings).by_id[FUNCTION_ID]
    queue: Iterator[TrialStarted] = iter(events)

    async def starter() -> None:
        for event in queue:  # shared iterator: each event taken by exactly one starter
            await stack.start_run(spec, event)
            progress.started += 1

    await asyncio.gather(*(starter() for _ in range(k)))


async def main(args: argparse.Namespace) -> None:
    spec = build_registry(settings).by_id[FUNCTION_ID]
    tag = uuid.uuid4().hex[:8]
    trial_end = datetime.now(UTC) + timedelta(days=14)
    events = [
        TrialStarted(
            id=f"{tag}-{i}",
            data=TrialStartedData(user_id=f"{tag}-user-{i}", trial_end_date=trial_end),
        )
        for i in range(args.n)
    ]
    cache = os.environ.get("WORKER_MAX_CACHED_WORKFLOWS", str(settings.worker_max_cached_workflows))
    print(
        f"machine: nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}; {args.n} "
        f"{FUNCTION_ID} runs started directly with the Temporal client by {args.in_flight} "
        f"concurrent starters; one worker process, WORKER_MAX_CACHED_WORKFLOWS={cache}",
        flush=True,
    )
    async with running_stack() as stack:
        await create_users(stack.database_url, [e.data.user_id for e in events])
        before, cpu_before = snapshot(stack), stack.cpu()
        progress = Progress(stack, args.every)
        reporting = asyncio.create_task(progress.report_forever())
        await start_all(stack, events, progress, args.in_flight)
        started = time.monotonic() - progress.began
        print(f"-- all {args.n} started after {started:.0f}s; waiting until all are asleep")
        ids = [spec.workflow_id(e.to_json()) for e in events]
        exact = args.n <= args.exact_up_to
        checked = await wait_all_asleep(stack.client, ids, stack.task_queue, exact)
        asleep = time.monotonic() - progress.began
        await asyncio.sleep(args.every)  # one more line, asleep
        reporting.cancel()
        stack.check_alive()
        after = snapshot(stack)
        cpu = {name: used - cpu_before[name] for name, used in stack.cpu().items()}
    print(f"\n{'':32}{'before':>10}{'after':>10}{'per 1,000 runs':>16}")
    for label, value in before.items():
        per_thousand = (after[label] - value) / args.n * 1000
        print(f"{label:32}{value:10.1f}{after[label]:10.1f}{per_thousand:16.2f}")
    print(f"worker RSS peak while sampled: {progress.peak_worker_rss:.1f} MiB")
    print(f"\nstarted {args.n} runs in {started:.1f}s ({args.n / started:.0f}/s)")
    print(f"all {args.n} asleep ({checked}) after {asleep:.1f}s ({args.n / asleep:.0f} runs/s)")
    per_run = ", ".join(f"{name} {used * 1000 / args.n:.1f}" for name, used in cpu.items())
    print(f"CPU ms per run, started to asleep: {per_run}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="trial runs to start")
    parser.add_argument("--in-flight", type=int, default=settings.router_max_in_flight)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between lines")
    parser.add_argument(
        "--exact-up-to",
        type=int,
        default=20_000,
        help="check every run is asleep up to this many runs; above, a sample and a quiet queue",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
