"""The workflows of test_sandbox_runner, in a module of their own that imports little: the SDK's
stock sandbox, which the tests compare with the engine's, imports a workflow's module again for
every run (and for validating it), and the test module's own imports cost seconds each time."""

import uuid
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from tests.engine import rendezvous


class Greeting(BaseModel):
    name: str


@activity.defn
async def greet(greeting: Greeting) -> str:
    return f"Hello, {greeting.name}"


@workflow.defn(name="greets-twice")
class GreetsTwice:
    @workflow.run
    async def run(self, greeting: Greeting) -> list[str]:
        timeout = timedelta(seconds=10)
        local = await workflow.execute_local_activity(
            greet, greeting, start_to_close_timeout=timeout
        )
        remote = await workflow.execute_activity(greet, greeting, start_to_close_timeout=timeout)
        return [local, remote]


@workflow.defn(name="draws-a-uuid")
class DrawsAUuid:
    @workflow.run
    async def run(self, held: bool) -> str:
        if held:
            rendezvous.hold()
        try:
            uuid.uuid4()  # refused while a workflow runs (its id would differ on replay)
        except RestrictedWorkflowAccessError:
            return "refused"
        return "drawn"
