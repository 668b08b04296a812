"""onboarding-with-verification: email a signed verification link, wait up to 24 hours for the
user to click it (seed 000, step 10). Verified -> full access; not verified -> a reminder.

The wait matches `user/email.verified` on `data.userId`. An event that arrives while the link is
still being sent is kept by the run and found by the wait (Inngest loses it: #1433)."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.access import AccessActivities, Activation
    from activities.verification import VerificationActivities, VerificationEmail
    from events.users import EmailVerified, SignupCompleted
    from inngest_temporal import CamelModel, Match, Pipeline, function

VERIFICATION_WINDOW = timedelta(hours=24)


class Verified(CamelModel):
    status: Literal["verified"] = "verified"
    activated: bool


class Unverified(CamelModel):
    status: Literal["unverified"] = "unverified"
    reminded: bool


VerificationResult = Verified | Unverified


@function(
    id="onboarding-with-verification",
    trigger=SignupCompleted,
    wait_for=[Match(EmailVerified, "data.userId")],
)
class OnboardingWithVerificationWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: SignupCompleted) -> VerificationResult:
        data = event.data
        await self._send_link("send-verification-email", event, reminder=False)

        verified = await self.step.wait_for_event(
            "wait-for-email-verification", EmailVerified, timeout=VERIFICATION_WINDOW
        )
        if verified is None:
            await self._send_link("send-reminder", event, reminder=True)
            # The reminder carries a fresh link, valid as long as the first: a user who clicks
            # it still gets full access (otherwise the click would verify nothing).
            verified = await self.step.wait_for_event(
                "wait-for-verification-after-reminder", EmailVerified, timeout=VERIFICATION_WINDOW
            )
            if verified is None:
                return Unverified(reminded=True)

        await self.step.run(
            "activate-full-access",
            AccessActivities.activate_full_access,
            Activation(
                user_id=data.user_id,
                # When the user verified (the event's time), not when this step ran.
                verified_at=datetime.fromtimestamp(verified.ts / 1000, UTC),
            ),
        )
        return Verified(activated=True)

    async def _send_link(self, step_id: str, event: SignupCompleted, reminder: bool) -> None:
        await self.step.run(
            step_id,
            VerificationActivities.send_verification_email,
            VerificationEmail(
                user_id=event.data.user_id,
                email=event.data.email,
                name=event.data.name,
                issued_at=workflow.now(),
                idempotency_key=self.step.key(step_id),
                reminder=reminder,
            ),
        )
