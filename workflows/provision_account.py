"""provision-account: on signup, create the user record, a workspace and its defaults, then start
the trial (seed 000, step 4)."""

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.accounts import (
        AccountActivities,
        NewUser,
        NewWorkspace,
        UserRecord,
        WorkspaceRecord,
    )
    from events.users import SignupCompleted, TrialStarted, TrialStartedData
    from inngest_temporal import Pipeline, function

TRIAL_LENGTH = timedelta(days=14)


class ProvisionResult(BaseModel):
    user: UserRecord
    workspace: WorkspaceRecord
    status: str


@function(id="provision-account", trigger=SignupCompleted, retries=3)
class ProvisionAccountWorkflow(Pipeline):
    @workflow.run
    async def run(self, event: SignupCompleted) -> ProvisionResult:
        data = event.data
        trial_ends_at = workflow.now() + TRIAL_LENGTH
        user = await self.step.run(
            "create-user-record",
            AccountActivities.create_user_record,
            NewUser(
                user_id=data.user_id,
                email=data.email,
                name=data.name,
                plan=data.plan,
                trial_ends_at=trial_ends_at,
            ),
        )
        workspace = await self.step.run(
            "create-workspace",
            AccountActivities.create_workspace,
            NewWorkspace(user_id=user.id, owner_name=user.name),
        )
        await self.step.run("seed-defaults", AccountActivities.seed_defaults, workspace)
        await self.step.send_event(
            "start-trial",
            TrialStarted(data=TrialStartedData(user_id=user.id, trial_end_date=trial_ends_at)),
        )
        return ProvisionResult(user=user, workspace=workspace, status="provisioned")
