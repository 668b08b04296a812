"""sync-to-crm: push every new user to their CRM provider (seed 000, step 11), at most 5 pushes in
flight per provider across every worker, retried with exponential backoff from 1 s to 5 min."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.crm import CrmActivities, CrmContact, CrmPushRequest, CrmReceipt
    from events.users import SignupCompleted
    from inngest_temporal import Backoff, Concurrency, Pipeline, function


@function(
    id="sync-to-crm",
    trigger=SignupCompleted,
    retries=10,
    backoff=Backoff(min_delay=timedelta(seconds=1), max_delay=timedelta(minutes=5)),
    concurrency=Concurrency(limit=5, key="data.crmProvider"),
)
class SyncToCrmWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: SignupCompleted) -> CrmReceipt:
        data = event.data
        return await self.step.run(
            "push-to-crm",
            CrmActivities.push_to_crm,
            CrmPushRequest(
                provider=data.crm_provider,
                contact=CrmContact(
                    user_id=data.user_id, email=data.email, name=data.name, plan=data.plan
                ),
                idempotency_key=self.step.key("push-to-crm"),
            ),
            timeout=timedelta(minutes=2),
            # A dead worker's push is retried after seconds, not after the whole timeout.
            heartbeat_timeout=timedelta(seconds=5),
        )
