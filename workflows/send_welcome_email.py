"""send-welcome-email: render, send and track the welcome email (seed 000, step 5), at most 10 a
minute across every worker."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.analytics import AnalyticsActivities, TrackInput
    from activities.mail import EmailActivities, EmailMessage, EmailReceipt, WelcomeTemplate
    from events.users import SignupCompleted
    from inngest_temporal import Pipeline, Throttle, function


@function(
    id="send-welcome-email",
    trigger=SignupCompleted,
    retries=5,
    throttle=Throttle(limit=10, period=timedelta(minutes=1)),
)
class SendWelcomeEmailWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: SignupCompleted) -> EmailReceipt:
        data = event.data
        email_html = await self.step.run(
            "render-template",
            EmailActivities.render_welcome,
            WelcomeTemplate(name=data.name, plan=data.plan),
        )
        result = await self.step.run(
            "send-email",
            EmailActivities.send_email,
            EmailMessage(
                to=data.email,
                subject=f"Welcome to SaaS App, {data.name}!",
                html=email_html,
                idempotency_key=self.step.key("send-email"),
            ),
        )
        await self.step.run(
            "track-analytics",
            AnalyticsActivities.track,
            TrackInput(
                user_id=data.user_id,
                name="welcome_email_sent",
                properties={"messageId": result.message_id, "plan": data.plan},
                idempotency_key=self.step.key("track-analytics"),
            ),
        )
        return result
