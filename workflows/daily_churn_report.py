"""daily-churn-report: every morning, tell the team which trial users are about to lapse without
having come back (seed 000, step 7). A Temporal Schedule starts it (infra/schedules.py)."""

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.churn import ChurnActivities, ChurnCriteria, ChurnReport
    from activities.slack import SlackActivities, SlackMessage
    from inngest_temporal import Cron, Pipeline, ScheduledTimer, function


class NoAtRiskUsers(BaseModel):
    report: str = "No at-risk users today"


@function(id="daily-churn-report", trigger=Cron("0 9 * * *"))
class DailyChurnReportWorkflow(Pipeline):
    @workflow.run
    async def run(self, timer: ScheduledTimer) -> ChurnReport | NoAtRiskUsers:
        at_risk = await self.step.run(
            "query-at-risk-users", ChurnActivities.query_at_risk_users, ChurnCriteria()
        )
        if not at_risk.users:
            return NoAtRiskUsers()
        report = await self.step.run(
            "compile-report", ChurnActivities.compile_churn_report, at_risk
        )
        await self.step.run(
            "notify-team",
            SlackActivities.post_to_slack,
            SlackMessage(text=report.text, idempotency_key=self.step.key("notify-team")),
        )
        return report
