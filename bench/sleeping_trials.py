"""Sleeping trials (issue 3): what 10,000 `manage-trial-workflow` runs asleep at their 7-day timer
cost one worker process and a fresh dev server.

    python -m bench.sleeping_trials [--n 10000]

The runs are started directly with the Temporal client, as the router would start them for
`user/trial.started` (workflow id from FunctionSpec.workflow_id). Their users exist in the app
database first, because the trial's first step (`load-user`) reads them.
"""

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from application import build_registry
from bench.processes import rss_bytes
from bench.stack import Stack, running_stack
from db.models import User
from events.users import TrialStarted, TrialStartedData
from inngest_temporal import create_engine, session_factory
from settings import settings

registry = build_registry(settings)

FUNCTION_ID = "manage-trial-workflow"
MIB = 1024 * 1024


async def create_users(database_url: str, user_ids: list[str]) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = [
                {"id": u, "email": f"{u}@example.com", "name": f"Trial {u}", "plan": "pro"}
                for u in user_ids
            ]
            await session.execute(insert(User), rows)
            await session.commit()
    finally:
        await engine.dispose()


async def is_asleep(client: Client, workflow_id: str) -> bool:
    """Running, with no workflow task and no activity pending: parked on its timer."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False  # not visible yet
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise RuntimeError(f"{workflow_id} ended {description.status}: see the worker log")
    raw = description.raw_description
    return not raw.HasField("pending_workflow_task") and not raw.pending_activities


async def wait_all_asleep(client: Client, workflow_ids: list[str], batch: int = 50) -> None:
    """Checks the runs in start order (the order the worker mostly takes them), `batch` at once,
    and re-checks a batch until every run in it sleeps."""
    deadline = time.monotonic() + 3600
    for i in range(0, len(workflow_ids), batch):
        pending = workflow_ids[i : i + batch]
        while pending:
            asleep = await asyncio.gather(*(is_asleep(client, w) for w in pending))
            pending = [w for w, done in zip(pending, asleep, strict=True) if not done]
            if pending:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(pending)} runs still not asleep, e.g. {pending[0]}")
                await asyncio.sleep(1)


def snapshot(stack: Stack) -> dict[str, float]:
    figures = {"worker RSS MiB": rss_bytes(stack.services["worker"].pid) / MIB}
    if "temporal" in stack.services:
        figures["dev server RSS MiB"] = rss_bytes(stack.services["temporal"].pid) / MIB
    db_bytes = stack.server_db_bytes()
    if db_bytes is not None:
        figures["server DB MiB (file+wal+shm)"] = db_bytes / MIB
    return figures


async def main(args: argparse.Namespace) -> None:
    spec = registry.by_id[FUNCTION_ID]
    tag = uuid.uuid4().hex[:8]
    trial_end = datetime.now(UTC) + timedelta(days=14)
    events = [
        TrialStarted(
            id=f"{tag}-{i}",
            data=TrialStartedData(user_id=f"{tag}-user-{i}", trial_end_date=trial_end),
        )
        for i in range(args.n)
    ]
    print(
        f"machine: nproc={os.cpu_count()}; {args.n} {FUNCTION_ID} runs started directly with the "
        f"Temporal client (ids from FunctionSpec.workflow_id), "
        f"{settings.router_max_in_flight} starts in flight; one worker process"
    )
    async with running_stack() as stack:
        await create_users(stack.database_url, [e.data.user_id for e in events])
        before = snapshot(stack)
        in_flight = asyncio.Semaphore(settings.router_max_in_flight)

        async def start(event: TrialStarted) -> None:
            async with in_flight:
                await stack.start_run(spec, event)

        began = time.monotonic()
        await asyncio.gather(*(start(e) for e in events))
        started = time.monotonic() - began
        await wait_all_asleep(stack.client, [spec.workflow_id(e.to_json()) for e in events])
        asleep = time.monotonic() - began
        stack.check_alive()
        after = snapshot(stack)
    print(f"\n{'':32}{'before':>10}{'after':>10}{'per 1,000 runs':>16}")
    for label, value in before.items():
        per_thousand = (after[label] - value) / args.n * 1000
        print(f"{label:32}{value:10.1f}{after[label]:10.1f}{per_thousand:16.2f}")
    print(f"\nstarted {args.n} runs in {started:.1f}s ({args.n / started:.0f}/s)")
    print(f"all {args.n} asleep (no workflow task or activity pending) after {asleep:.1f}s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="trial runs to start")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
