"""One step of a raw workflow: a local activity when the mode is `split` and the activity carries
the project's `@local_activity` mark, an ordinary activity otherwise. The step id is the summary,
as in the project (the Web UI shows it)."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from inngest_temporal.steps import LOCAL_MARK

R = TypeVar("R")
STEP_TIMEOUT = timedelta(minutes=1)  # the project's default step timeout


def runs_locally(activity: Callable[..., Any], split: bool) -> bool:
    return split and bool(getattr(activity, LOCAL_MARK, False))


async def step(
    step_id: str,
    activity: Callable[..., Awaitable[R]],
    arg: Any,
    *,
    split: bool,
    retry_policy: RetryPolicy,
    timeout: timedelta = STEP_TIMEOUT,
    heartbeat_timeout: timedelta | None = None,
) -> R:
    if runs_locally(activity, split):
        result: R = await workflow.execute_local_activity(
            activity,
            arg,
            summary=step_id,
            start_to_close_timeout=timeout,
            retry_policy=retry_policy,
        )
        return result
    result = await workflow.execute_activity(
        activity,
        arg,
        summary=step_id,
        start_to_close_timeout=timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
    )
    return result
