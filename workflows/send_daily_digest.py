"""send-daily-digest: every day at 09:00 (SCHEDULE_TIME_ZONE, UTC by default), the order count and
revenue (net of refunds) of the day before its scheduled time, emailed to every admin (seed 003,
"Scheduled Functions").

The day is the one the run was scheduled for (Temporal's `TemporalScheduledStartTime`), not the
clock when it runs: a run the Schedule starts late (catch-up after an outage, a backfill) reports
its own day. Without admins the result says nobody was sent it."""

from datetime import UTC, datetime

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from activities.digest import (
        DigestActivities,
        DigestDelivery,
        OrderStats,
        StatsPeriod,
    )
    from inngest_temporal import CamelModel, Cron, Pipeline, ScheduledTimer, function

# Set by a Schedule on every run it starts: the time the run was scheduled for.
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


class DigestReport(CamelModel):
    stats: OrderStats
    recipients: list[str]
    skipped_because: str | None = None


@function(id="send-daily-digest", trigger=Cron("0 9 * * *"), retries=3)
class SendDailyDigestWorkflow(Pipeline):
    @workflow.run
    async def run(self, timer: ScheduledTimer) -> DigestReport:
        stats = await self.step.run(
            "fetch-stats", DigestActivities.fetch_order_stats, StatsPeriod(until=scheduled_for())
        )
        sent = await self.step.run(
            "send-digest-emails",
            DigestActivities.send_digest_emails,
            DigestDelivery(stats=stats, idempotency_key=self.step.key("send-digest-emails")),
        )
        return DigestReport(
            stats=stats, recipients=sent.recipients, skipped_because=sent.skipped_because
        )


def scheduled_for() -> datetime:
    """The time the Schedule meant this run for; the run's clock when it was started otherwise
    (by hand, or on a server without Schedules)."""
    scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
    if scheduled is None:
        return workflow.now()
    return scheduled if scheduled.tzinfo else scheduled.replace(tzinfo=UTC)
