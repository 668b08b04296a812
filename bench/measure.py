"""One rendition measured: its own fresh stack (dev server, app database, worker, API), a warm-up,
then N signups at a steady rate, drained, with the CPU each process used in between, the
requests' latencies, and what the workflow histories say."""

import asyncio
import os
import uuid
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType

from bench.drain import FINISHING, PARKING, wait_drained
from bench.drive import Driven, drive
from bench.histories import RunShape, TypeSummary, fetch_shapes, runs_of_type, summarise
from bench.processes import machine_busy_seconds
from bench.stack import Stack, running_stack
from inngest_temporal.codec import ENCODING

GATE_TYPE = "admission-gate"
IDLE_SECONDS = 5.0
SAMPLE_PER_TYPE = 40  # histories read per sleeping/finishing type other than provision-account


@dataclass(frozen=True)
class Rendition:
    name: str
    worker_argv: list[str] | None  # None: the project's worker.py
    api_app: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Measured:
    rendition: Rendition
    signups: int
    warmup: int
    driven: Driven
    cpu_seconds: dict[str, float]  # by process, over the measured signups (start to drained)
    wall_seconds: float
    other_cpu_seconds: float  # the machine's busy time meanwhile, less this stack and the bench
    load_average: tuple[float, float]  # 1-minute load when the measured part began and ended
    provision: list[RunShape]
    types: list[TypeSummary]
    failed: dict[str, int]
    encrypted: bool | None  # payloads seen encrypted in a history (None: not checked)
    idle_cores: dict[str, float]  # by process, with nothing to do (after the warm-up drained)


async def _encrypted(stack: Stack, workflow_id: str) -> bool:
    handle = stack.client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            return bool(payloads) and payloads[0].metadata.get("encoding") == ENCODING
    return False


async def _types(stack: Stack, signups: int) -> list[TypeSummary]:
    """Every workflow type the signups made, sampled; the gates (a few long runs) read whole."""
    summaries = []
    for workflow_type in (*FINISHING, *PARKING, GATE_TYPE):
        runs = await runs_of_type(stack.client, workflow_type)
        if not runs:
            continue
        chosen = runs if workflow_type == GATE_TYPE else runs[:SAMPLE_PER_TYPE]
        shapes = await fetch_shapes(stack.client, chosen)
        summaries.append(summarise(workflow_type, len(runs), shapes))
    return summaries


async def idle_cores(stack: Stack, seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """What each process costs doing nothing (polling loops, timers): part of every CPU figure."""
    before = stack.cpu()
    await asyncio.sleep(seconds)
    return {name: (used - before[name]) / seconds for name, used in stack.cpu().items()}


async def measure(rendition: Rendition, signups: int, warmup: int, rate: float) -> Measured:
    async with running_stack(
        rendition.env,
        with_api=True,
        worker_argv=rendition.worker_argv,
        api_app=rendition.api_app,
    ) as stack:
        tag = uuid.uuid4().hex[:8]
        if warmup:
            await drive(stack.api_url, warmup, rate, f"warm-{tag}")
            await wait_drained(stack, warmup)
        idle = await idle_cores(stack)
        cpu_before, busy_before = stack.cpu(), machine_busy_seconds()
        load_before = os.getloadavg()[0]
        began = asyncio.get_running_loop().time()
        driven = await drive(stack.api_url, signups, rate, tag)
        failed = await wait_drained(stack, warmup + signups - sum(driven.failures.values()))
        wall = asyncio.get_running_loop().time() - began
        cpu = {name: used - cpu_before[name] for name, used in stack.cpu().items()}
        other = machine_busy_seconds() - busy_before - sum(cpu.values())
        load_after = os.getloadavg()[0]
        stack.check_alive()
        # Read after the CPU: reading histories costs the server CPU too.
        provision_ids = [(f"provision-account-signup-{u}", None) for u in driven.user_ids]
        provision = await fetch_shapes(stack.client, provision_ids)
        types = await _types(stack, warmup + signups)
        encrypted = await _encrypted(stack, provision_ids[0][0]) if provision_ids else None
    return Measured(
        rendition,
        signups,
        warmup,
        driven,
        cpu,
        wall,
        other,
        (load_before, load_after),
        provision,
        types,
        failed,
        encrypted,
        idle,
    )
