"""Account records in the database: users, workspaces, default settings."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from temporalio import activity

from db.models import User, Workspace, WorkspaceSetting
from inngest_temporal import CamelModel, Sessions, insert_ignore, local_activity

DEFAULT_SETTINGS: dict[str, Any] = {
    "project": {"name": "Getting started", "template": "onboarding"},
    "notifications": {"email": True, "weeklySummary": True},
    "timezone": "UTC",
}


class NewUser(CamelModel):
    user_id: str
    email: str
    name: str
    plan: str
    trial_ends_at: datetime


class UserRecord(CamelModel):
    id: str
    email: str
    name: str
    plan: str
    created_at: datetime


class NewWorkspace(CamelModel):
    user_id: str
    owner_name: str


class WorkspaceRecord(CamelModel):
    workspace_id: str
    name: str


class SeedResult(BaseModel):
    seeded: bool
    settings: int


class AccountActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @local_activity
    @activity.defn
    async def create_user_record(self, new: NewUser) -> UserRecord:
        """Creates the user if absent (the signup API may have); a re-run changes nothing."""
        async with self._sessions() as session:
            await session.execute(
                insert_ignore(session, User),
                {
                    "id": new.user_id,
                    "email": new.email,
                    "name": new.name,
                    "plan": new.plan,
                    "role": "member",
                    "full_access": False,
                    "onboarding_completed": False,
                },
            )
            await session.execute(
                update(User)
                .where(User.id == new.user_id, User.trial_ends_at.is_(None))
                .values(trial_ends_at=new.trial_ends_at)
            )
            user = (await session.scalars(select(User).where(User.id == new.user_id))).one()
            await session.commit()
            return UserRecord(
                id=user.id,
                email=user.email,
                name=user.name,
                plan=user.plan,
                created_at=user.created_at,
            )

    @local_activity
    @activity.defn
    async def create_workspace(self, new: NewWorkspace) -> WorkspaceRecord:
        workspace_id = f"ws_{new.user_id}"
        async with self._sessions() as session:
            await session.execute(
                insert_ignore(session, Workspace),
                {
                    "id": workspace_id,
                    "user_id": new.user_id,
                    "name": f"{new.owner_name}'s Workspace",
                },
            )
            workspace = (
                await session.scalars(select(Workspace).where(Workspace.id == workspace_id))
            ).one()
            await session.commit()
            return WorkspaceRecord(workspace_id=workspace.id, name=workspace.name)

    @local_activity
    @activity.defn
    async def seed_defaults(self, workspace: WorkspaceRecord) -> SeedResult:
        rows = [
            {"workspace_id": workspace.workspace_id, "key": key, "value": value}
            for key, value in DEFAULT_SETTINGS.items()
        ]
        async with self._sessions() as session:
            await session.execute(insert_ignore(session, WorkspaceSetting), rows)
            count = len(
                (
                    await session.scalars(
                        select(WorkspaceSetting.id).where(
                            WorkspaceSetting.workspace_id == workspace.workspace_id
                        )
                    )
                ).all()
            )
            await session.commit()
        return SeedResult(seeded=True, settings=count)
