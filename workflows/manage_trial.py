"""manage-trial-workflow: the 14-day trial (seed 000, step 6). Reminders on day 7 and day 13; on
day 14 a user without a paying subscription is moved to the free plan and told so.

A `billing/subscription.created` for the user cancels the run (cancel_on): the step in flight
finishes, nothing more is sent, and the run ends CANCELED with the event named as the reason."""

import html
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.access import AccessActivities, Downgrade, UserContact, UserRef
    from activities.mail import EmailActivities, EmailMessage
    from events.billing import SubscriptionCreated
    from events.users import TrialStarted
    from inngest_temporal import CamelModel, Match, Pipeline, function


class TrialResult(CamelModel):
    user_id: str
    converted: bool


@function(
    id="manage-trial-workflow",
    trigger=TrialStarted,
    retries=3,
    cancel_on=[Match(SubscriptionCreated, "data.userId")],
)
class ManageTrialWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: TrialStarted) -> TrialResult:
        user_id = event.data.user_id
        user = await self.step.run(
            "load-user", AccessActivities.load_user_contact, UserRef(user_id=user_id)
        )

        await self.step.sleep("wait-for-day-7", timedelta(days=7))
        await self._email(
            "send-mid-trial-email",
            user,
            "You're halfway through your trial!",
            "Seven days in: a good moment to try the features you have not explored yet.",
        )

        await self.step.sleep("wait-for-day-13", timedelta(days=6))
        await self._email(
            "send-trial-ending-email",
            user,
            "Your trial ends tomorrow!",
            "Subscribe today to keep your plan and everything you have set up.",
        )

        await self.step.sleep("wait-for-trial-end", timedelta(days=1))
        subscription = await self.step.run(
            "check-subscription", AccessActivities.check_subscription, UserRef(user_id=user_id)
        )
        if subscription.active:
            return TrialResult(user_id=user_id, converted=True)

        change = await self.step.run(
            "downgrade-to-free",
            AccessActivities.downgrade_to_free,
            Downgrade(user_id=user_id, idempotency_key=self.step.key("downgrade-to-free")),
        )
        if not change.downgraded:
            # A subscription arrived between the check and the downgrade: the user converted.
            return TrialResult(user_id=user_id, converted=True)
        await self._email(
            "send-downgrade-email",
            user,
            "Your trial has ended",
            "Your account is now on the free plan. Upgrade any time to get your features back.",
        )
        return TrialResult(user_id=user_id, converted=False)

    async def _email(self, step_id: str, user: UserContact, subject: str, text: str) -> None:
        body = f"<p>Hi {html.escape(user.name)},</p>\n<p>{html.escape(text)}</p>"
        await self.step.run(
            step_id,
            EmailActivities.send_email,
            EmailMessage(
                to=user.email, subject=subject, html=body, idempotency_key=self.step.key(step_id)
            ),
        )
