"""send-sign-in-link: on `user/sign-in.requested`, email the user a one-time sign-in link."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.mail import EmailReceipt
    from activities.sign_in import SignInActivities, SignInEmail
    from events.users import SignInRequested
    from inngest_temporal import Pipeline, function


@function(id="send-sign-in-link", trigger=SignInRequested)
class SendSignInLinkWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: SignInRequested) -> EmailReceipt:
        return await self.step.run(
            "send-sign-in-email",
            SignInActivities.send_sign_in_email,
            SignInEmail(
                user_id=event.data.user_id,
                email=event.data.email,
                link_id=event.id,
                issued_at=workflow.now(),
                idempotency_key=self.step.key("send-sign-in-email"),
            ),
        )
