"""The admission gate on the dev server, its grant signals made slow on purpose (half a second), so
the window in which a run arrives while the gate is still granting is wide and certain. (The
time-skipping server skips past the slow signal's timer while a workflow task is in flight.)"""

import asyncio
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    Interceptor,
    SignalExternalWorkflowInput,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

with workflow.unsafe.imports_passed_through():
    from inngest_temporal import Registry, activity_methods
    from inngest_temporal.admission import Acquire, GateActivities, GateState
    from inngest_temporal.gate import GateWorkflow
    from inngest_temporal.permits import GRANTED_SIGNAL, Holder
    from inngest_temporal.sandbox import sandbox
    from tests.conftest import TEST_BUILD_ID
    from tests.support import unique

SIGNAL_DELAY = timedelta(seconds=0.5)


class _SlowSignals(WorkflowOutboundInterceptor):
    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        await workflow.sleep(SIGNAL_DELAY)
        await super().signal_external_workflow(input)


class _Inbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_SlowSignals(outbound))


class SlowGrantSignals(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _Inbound


@workflow.defn(name="test-permit-holder")
class PermitHolder:
    """Stands for a run waiting at the gate: done once its permit arrives."""

    def __init__(self) -> None:
        self.granted = False

    @workflow.signal(name=GRANTED_SIGNAL)
    def permit_granted(self, gate_id: str) -> None:
        self.granted = True

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.granted)


async def holder(client: Client, task_queue: str) -> Holder:
    handle = await client.start_workflow(
        PermitHolder.run, id=unique("holder"), task_queue=task_queue
    )
    assert handle.result_run_id is not None
    return Holder(workflow_id=handle.id, run_id=handle.result_run_id)


@pytest.mark.long
async def test_a_run_arriving_while_the_gate_grants_is_not_stranded(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    gate_id = unique("gate")
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[GateWorkflow, PermitHolder],
        activities=activity_methods([GateActivities(client, task_queue, Registry([]))]),
        interceptors=[SlowGrantSignals()],
        workflow_runner=sandbox(),
        build_id=TEST_BUILD_ID,
    )
    async with worker:
        first, second, third = [await holder(client, task_queue) for _ in range(3)]
        gate = await client.start_workflow(
            GateWorkflow.run, GateState(gate_id=gate_id, limit=1), id=gate_id, task_queue=task_queue
        )
        # With room, the answer to the request is the permit itself.
        assert (
            await gate.execute_update(GateWorkflow.acquire, Acquire(holder=first, limit=1))
        ).granted
        assert not (
            await gate.execute_update(GateWorkflow.acquire, Acquire(holder=second, limit=1))
        ).granted
        # The first run releases: the second's permit is on its way (slowly) ...
        await gate.signal(GateWorkflow.release, first)
        for _ in range(500):
            if (await gate.query(GateWorkflow.status)).holders == [second]:
                break
            await asyncio.sleep(0.01)
        # ... when the third arrives, with room to spare (the limit was raised): it gets its permit.
        third_grant = await gate.execute_update(
            GateWorkflow.acquire, Acquire(holder=third, limit=2)
        )
        assert third_grant.granted
        handle = client.get_workflow_handle(second.workflow_id)
        await asyncio.wait_for(handle.result(), 10)
        assert (await gate.query(GateWorkflow.status)).holders == [second, third]
