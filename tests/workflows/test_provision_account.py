"""provision-account on the time-skipping server, with the real activities and database."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.accounts import AccountActivities, NewWorkspace, WorkspaceRecord
from db.models import User, Workspace, WorkspaceSetting
from events.users import SignupCompleted, SignupCompletedData
from inngest_temporal import NonRetriableError, Sessions
from inngest_temporal.store import StoredEvent
from tests.support import make_worker, step_ids, unique
from workflows.provision_account import ProvisionAccountWorkflow


def signup(user_id: str) -> SignupCompleted:
    return SignupCompleted(
        id=unique("evt"),
        data=SignupCompletedData(
            user_id=user_id, email=f"{user_id}@example.com", name="Ada", plan="pro"
        ),
    )


async def test_provisions_user_workspace_defaults_and_starts_trial(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    user_id = unique("user")
    event = signup(user_id)
    async with make_worker(skipping_env.client, sessions, task_queue):
        handle = await skipping_env.client.start_workflow(
            ProvisionAccountWorkflow.run, event, id=unique("wf"), task_queue=task_queue
        )
        result = await handle.result()
        steps = await step_ids(handle)

    assert result.status == "provisioned"
    assert result.workspace.name == "Ada's Workspace"
    assert steps == ["create-user-record", "create-workspace", "seed-defaults", "start-trial"]
    async with sessions() as session:
        user = (await session.scalars(select(User).where(User.id == user_id))).one()
        workspace = (
            await session.scalars(select(Workspace).where(Workspace.user_id == user_id))
        ).one()
        defaults = (
            await session.scalars(
                select(WorkspaceSetting).where(WorkspaceSetting.workspace_id == workspace.id)
            )
        ).all()
        trial = (
            await session.scalars(
                select(StoredEvent).where(
                    StoredEvent.name == "user/trial.started",
                    StoredEvent.data["userId"].as_string() == user_id,
                )
            )
        ).one()
    assert user.email == f"{user_id}@example.com"
    assert {d.key for d in defaults} == {"project", "notifications", "timezone"}
    assert user.trial_ends_at is not None
    assert trial.data["trialEndDate"].startswith(user.trial_ends_at.date().isoformat())
    assert user.trial_ends_at - user.created_at > timedelta(days=13, hours=23)


async def test_step_failing_twice_then_succeeding_completes_the_run(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    attempts: list[int] = []

    real = AccountActivities(sessions)

    @activity.defn(name="create_workspace")
    async def flaky_create_workspace(new: NewWorkspace) -> WorkspaceRecord:
        attempts.append(activity.info().attempt)
        if len(attempts) < 3:
            raise RuntimeError("database unavailable")
        return await real.create_workspace(new)

    async with make_worker(
        skipping_env.client, sessions, task_queue, fakes=[flaky_create_workspace]
    ):
        result = await skipping_env.client.execute_workflow(
            ProvisionAccountWorkflow.run,
            signup(unique("user")),
            id=unique("wf"),
            task_queue=task_queue,
        )
    assert attempts == [1, 2, 3]
    assert result.workspace.name == "Ada's Workspace"
    assert result.status == "provisioned"


async def test_non_retriable_error_fails_the_run_at_once(
    skipping_env: WorkflowEnvironment, sessions: Sessions, task_queue: str
) -> None:
    attempts: list[int] = []

    @activity.defn(name="create_workspace")
    async def refusing_create_workspace(new: NewWorkspace) -> WorkspaceRecord:
        attempts.append(activity.info().attempt)
        raise NonRetriableError("workspace name not allowed")

    async with make_worker(
        skipping_env.client, sessions, task_queue, fakes=[refusing_create_workspace]
    ):
        with pytest.raises(WorkflowFailureError) as failure:
            await skipping_env.client.execute_workflow(
                ProvisionAccountWorkflow.run,
                signup(unique("user")),
                id=unique("wf"),
                task_queue=task_queue,
            )
    assert attempts == [1]
    activity_error = failure.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == "NonRetriableError"
    assert activity_error.cause.message == "workspace name not allowed"
