"""Waiting until a rendition's work is done, so its CPU is read after its last step and not before:
every run that ends by itself has ended, every run that sleeps or waits (the trial, the
verification) exists, and then the processes have gone quiet (the sleepers parked on their timers,
the last activity answered)."""

import asyncio
import time

from temporalio.client import Client

from bench.stack import Stack

FINISHING = ("provision-account", "send-welcome-email", "sync-to-crm")
PARKING = ("manage-trial-workflow", "onboarding-with-verification")
NOT_COMPLETED = "('Failed', 'Canceled', 'Terminated', 'TimedOut')"
QUIET_CORES = 0.06  # the stack's processes together, averaged over a window: idle polling only
QUIET_WINDOW = 0.5  # seconds
QUIET_WINDOWS = 3  # in a row


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def wait_runs(client: Client, signups: int, timeout: float = 600) -> dict[str, int]:
    """Until each finishing type has `signups` closed runs and each parking type `signups` runs.
    Returns the closed runs that did not complete, by type (should be none)."""
    deadline = time.monotonic() + timeout
    while True:
        closed = [
            await _count(client, f"WorkflowType = '{t}' AND ExecutionStatus != 'Running'")
            for t in FINISHING
        ]
        parked = [await _count(client, f"WorkflowType = '{t}'") for t in PARKING]
        if min(closed + parked) >= signups:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"not drained after {timeout}s: closed {closed}, parked {parked}")
        await asyncio.sleep(0.25)
    failed = {}
    for t in FINISHING:
        query = f"WorkflowType = '{t}' AND ExecutionStatus IN {NOT_COMPLETED}"
        if n := await _count(client, query):
            failed[t] = n
    return failed


async def wait_quiet(stack: Stack, timeout: float = 120) -> None:
    """Until the stack's processes use less than QUIET_CORES for QUIET_WINDOWS windows in a row."""
    deadline = time.monotonic() + timeout
    quiet = 0
    before = sum(stack.cpu()[name] for name in stack.services)
    while quiet < QUIET_WINDOWS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stack did not go quiet within {timeout}s")
        await asyncio.sleep(QUIET_WINDOW)
        now = sum(stack.cpu()[name] for name in stack.services)
        quiet = quiet + 1 if (now - before) / QUIET_WINDOW < QUIET_CORES else 0
        before = now


async def wait_drained(stack: Stack, signups: int) -> dict[str, int]:
    failed = await wait_runs(stack.client, signups)
    await wait_quiet(stack)
    return failed
