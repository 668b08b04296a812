"""The admission gate on the dev server, its grant signals made slow on purpose (half a second), so
the window in which a run arrives while the gate is still granting is wide and certain. (The
time-skipping server skips past the slow signal's timer while a workflow task is in flight.)"""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
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
    from tests.support import unique
    from workflows.gate import GRANTED_SIGNAL, Acquire, GateState, GateWorkflow

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


async def holder(client: Client, task_queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(PermitHolder.run, id=unique("holder"), task_queue=task_queue)


async def test_a_run_arriving_while_the_gate_grants_is_not_stranded(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    gate_id = unique("gate")
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[GateWorkflow, PermitHolder],
        interceptors=[SlowGrantSignals()],
    )
    async with worker:
        first, second = await holder(client, task_queue), await holder(client, task_queue)
        gate = await client.start_workflow(
            GateWorkflow.run,
            GateState(gate_id=gate_id, limit=5),
            id=gate_id,
            task_queue=task_queue,
            start_signal="acquire",
            start_signal_args=[Acquire(holder=first.id, limit=5)],
        )
        # The first permit is granted and its signal is on its way (slowly) ...
        for _ in range(500):
            if (await gate.query(GateWorkflow.status)).holders == [first.id]:
                break
            await asyncio.sleep(0.01)
        # ... when the second run arrives, with room to spare: it must get its permit too.
        await gate.signal(GateWorkflow.acquire, Acquire(holder=second.id, limit=5))
        await asyncio.wait_for(asyncio.gather(first.result(), second.result()), 10)
        assert (await gate.query(GateWorkflow.status)).holders == [first.id, second.id]
