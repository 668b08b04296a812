"""manage-trial-workflow: the trial (seed 000, step 6), following the `trialEndDate` of its event:
the mid-trial email at the trial's midpoint, the ending email one day before the end, and at the
end a user without a paying subscription is moved to the free plan and told so. A 14-day trial
keeps the seed's days 7, 13 and 14; a 30-day one gets days 15, 29 and 30.

Each email step first reads the subscription it is about to contradict: a user who already pays
(whenever the subscription arrived, even before this run existed) gets no trial email, and the
check at the end leaves them on their plan.

A `billing/subscription.created` for the user cancels the run (cancel_on): the step in flight
finishes, nothing more is sent, and the run ends CANCELED with the event named as the reason.

Runs started before the trial followed its end date replay the seed's fixed 7 / 6 / 1 days
(`workflow.patched`), so a deploy does not break the trials in flight."""

import html
from datetime import UTC, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.access import AccessActivities, Downgrade, UserContact, UserRef
    from activities.mail import EmailActivities, EmailMessage
    from activities.trial import TrialActivities, TrialEmail, TrialNotice
    from events.billing import SubscriptionCreated
    from events.users import TrialStarted
    from inngest_temporal import CamelModel, Match, Pipeline, function

FOLLOWS_END_DATE = "trial-follows-end-date"
ENDING_NOTICE = timedelta(days=1)


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
        user = await self.step.run(
            "load-user", AccessActivities.load_user_contact, UserRef(user_id=event.data.user_id)
        )
        if not workflow.patched(FOLLOWS_END_DATE):
            return await self._fixed_fourteen_days(user)

        ends = event.data.trial_end_date
        began = _began(event)
        # The step ids are the seed's (its 14-day trial's days); the times follow the trial.
        await self._sleep_until("wait-for-day-7", began + (ends - began) / 2)
        if workflow.now() < ends - ENDING_NOTICE:
            await self._notice("send-mid-trial-email", user, "mid-trial")
        await self._sleep_until("wait-for-day-13", ends - ENDING_NOTICE)
        if workflow.now() < ends:
            await self._notice("send-trial-ending-email", user, "trial-ending")
        await self._sleep_until("wait-for-trial-end", ends)
        return await self._end_trial(user)

    async def _end_trial(self, user: UserContact) -> TrialResult:
        user_id = user.user_id
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

    async def _sleep_until(self, step_id: str, moment: datetime) -> None:
        remaining = moment - workflow.now()
        if remaining > timedelta(0):
            await self.step.sleep(step_id, remaining)

    async def _notice(self, step_id: str, user: UserContact, notice: TrialNotice) -> None:
        await self.step.run(
            step_id,
            TrialActivities.send_trial_email,
            TrialEmail(
                user_id=user.user_id,
                email=user.email,
                name=user.name,
                notice=notice,
                idempotency_key=self.step.key(step_id),
            ),
        )

    async def _email(self, step_id: str, user: UserContact, subject: str, text: str) -> None:
        body = f"<p>Hi {html.escape(user.name)},</p>\n<p>{html.escape(text)}</p>"
        await self.step.run(
            step_id,
            EmailActivities.send_email,
            EmailMessage(
                to=user.email, subject=subject, html=body, idempotency_key=self.step.key(step_id)
            ),
        )

    async def _fixed_fourteen_days(self, user: UserContact) -> TrialResult:
        """The seed's schedule, as runs started before FOLLOWS_END_DATE recorded it."""
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
        return await self._end_trial(user)


def _began(event: TrialStarted) -> datetime:
    """When the trial started: the event's time (a run may start after its event was sent), but
    never later than now."""
    now = workflow.now()
    if not event.ts:
        return now
    return min(datetime.fromtimestamp(event.ts / 1000, UTC), now)
