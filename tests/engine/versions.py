"""One function in two versions, as two deploys would have it: the second adds a limit."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from inngest_temporal import Concurrency, Pipeline, function
    from tests.engine.functions import Ping, record


@function(id="plain", trigger=Ping)
class PlainV1(Pipeline):
    @workflow.run
    async def run(self, event: Ping) -> str:
        await self.step.sleep("nap", timedelta(days=1))
        return await record(self, "plain", "after-nap", event.data.key)


@function(id="plain", trigger=Ping, concurrency=Concurrency(limit=1))
class PlainV2(Pipeline):
    """The same function, deployed again with a limit."""

    @workflow.run
    async def run(self, event: Ping) -> str:
        await self.step.sleep("nap", timedelta(days=1))
        return await record(self, "plain", "after-nap", event.data.key)
