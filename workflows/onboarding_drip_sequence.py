"""onboarding-drip-sequence: a welcome email now, tips on day 1 (unless the user completed
onboarding), a case study on day 3, an upgrade offer with a discount code on day 7 (unless already
paying). The waits are durable timers: a worker restart or deploy in between changes nothing."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.onboarding import DripEmail, DripResult, DripTemplate, OnboardingActivities
    from events.users import SignedUp, SignedUpData
    from inngest_temporal import CamelModel, Pipeline, function


class DripOutcome(CamelModel):
    emails: dict[str, DripResult]


@function(id="onboarding-drip-sequence", trigger=SignedUp, retries=3)
class OnboardingDripSequenceWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: SignedUp) -> DripOutcome:
        user = event.data
        emails = {"send-welcome": await self._send(user, "send-welcome", "welcome")}
        await self.step.sleep("wait-day-1", timedelta(days=1))
        emails["send-day-1-tips"] = await self._send(user, "send-day-1-tips", "day-1-tips")
        await self.step.sleep("wait-day-3", timedelta(days=2))
        emails["send-day-3-case-study"] = await self._send(
            user, "send-day-3-case-study", "day-3-case-study"
        )
        await self.step.sleep("wait-day-7", timedelta(days=4))
        emails["send-day-7-upgrade"] = await self._send(user, "send-day-7-upgrade", "day-7-upgrade")
        return DripOutcome(emails=emails)

    async def _send(self, data: SignedUpData, step_id: str, template: DripTemplate) -> DripResult:
        return await self.step.run(
            step_id,
            OnboardingActivities.send_onboarding_email,
            DripEmail(
                user_id=data.user_id,
                email=data.email,
                name=data.name,
                template=template,
                idempotency_key=self.step.key(step_id),
            ),
        )
