"""send-daily-digest: every day at 09:00 (SCHEDULE_TIME_ZONE, UTC by default), the last day's
order count and revenue, emailed to every admin (seed 003, "Scheduled Functions")."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities, DigestDelivery, DigestRecipients, StatsPeriod
    from inngest_temporal import Cron, Pipeline, ScheduledTimer, function


@function(id="send-daily-digest", trigger=Cron("0 9 * * *"), retries=3)
class SendDailyDigestWorkflow(Pipeline):
    @workflow.run
    async def run(self, timer: ScheduledTimer) -> DigestRecipients:
        stats = await self.step.run(
            "fetch-stats", DigestActivities.fetch_order_stats, StatsPeriod(until=workflow.now())
        )
        return await self.step.run(
            "send-digest-emails",
            DigestActivities.send_digest_emails,
            DigestDelivery(stats=stats, idempotency_key=self.step.key("send-digest-emails")),
        )
