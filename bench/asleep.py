"""Whether started runs are parked on a timer: running, with no workflow task and no activity
pending. Checked run by run (describe), in start order, or for very many runs, a quiet queue
(no workflow task backlog) confirmed on a sample, so the check does not cost more than the runs."""

import asyncio
import random
import time

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

SAMPLE = 1_000


async def is_asleep(client: Client, workflow_id: str) -> bool:
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False  # not visible yet
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise RuntimeError(f"{workflow_id} ended {description.status}: see the worker log")
    raw = description.raw_description
    return not raw.HasField("pending_workflow_task") and not raw.pending_activities


async def _all_asleep(client: Client, workflow_ids: list[str], batch: int, deadline: float) -> None:
    """Checks the runs in start order (the order the worker mostly takes them), `batch` at once,
    and re-checks a batch until every run in it sleeps."""
    for i in range(0, len(workflow_ids), batch):
        pending = workflow_ids[i : i + batch]
        while pending:
            asleep = await asyncio.gather(*(is_asleep(client, w) for w in pending))
            pending = [w for w, done in zip(pending, asleep, strict=True) if not done]
            if pending:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(pending)} runs still not asleep, e.g. {pending[0]}")
                await asyncio.sleep(1)


async def workflow_backlog(client: Client, task_queue: str) -> int:
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            report_stats=True,
        )
    )
    return int(response.stats.approximate_backlog_count)


async def wait_all_asleep(
    client: Client, workflow_ids: list[str], task_queue: str, exact: bool, timeout: float = 7200
) -> str:
    """Returns how it was established: every run described, or a drained queue plus a sample
    (the last SAMPLE started, the most likely to lag, and SAMPLE at random)."""
    deadline = time.monotonic() + timeout
    if exact:
        await _all_asleep(client, workflow_ids, 200, deadline)
        return f"each of the {len(workflow_ids)} runs described"
    while await workflow_backlog(client, task_queue) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the workflow task backlog did not drain")
        await asyncio.sleep(2)
    earlier = workflow_ids[:-SAMPLE]
    sample = workflow_ids[-SAMPLE:] + random.sample(earlier, min(SAMPLE, len(earlier)))
    await _all_asleep(client, sample, 200, deadline)
    return f"no workflow task backlog, and {len(sample)} sampled runs described"
