"""mark-onboarding-completed: `user/onboarding.completed` (from `POST /api/me/onboarding/complete`
or any producer of the event API) sets the user's `onboarding_completed`, which the drip reads
before its day-1 tips."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.access import UserRef
    from activities.onboarding import OnboardingActivities, OnboardingState
    from events.users import OnboardingCompleted
    from inngest_temporal import Pipeline, function


@function(id="mark-onboarding-completed", trigger=OnboardingCompleted, retries=4)
class MarkOnboardingCompletedWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: OnboardingCompleted) -> OnboardingState:
        return await self.step.run(
            "mark-onboarding-completed",
            OnboardingActivities.mark_onboarding_completed,
            UserRef(user_id=event.data.user_id),
        )
