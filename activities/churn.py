"""Churn risk, read from the users table: trials about to end for people who stopped showing up."""

import math
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import exists, or_, select
from temporalio import activity

from db.models import User
from db.models.billing import PAYING_STATUSES, Subscription
from inngest_temporal import CamelModel, Sessions, local_activity

MAX_LISTED = 50  # users named in the team message; a Slack message has a size limit


class ChurnCriteria(BaseModel):
    trial_ends_within: timedelta = timedelta(days=3)
    inactive_for: timedelta = timedelta(hours=48)


class AtRiskUser(CamelModel):
    user_id: str
    email: str
    name: str
    plan: str
    trial_ends_at: datetime
    trial_ends_in: int  # whole days, rounded up, as the seed's `trialEndsIn`
    last_active_at: datetime | None


class AtRiskUsers(CamelModel):
    as_of: datetime
    users: list[AtRiskUser]


class ChurnReport(CamelModel):
    date: datetime
    at_risk_count: int
    users: list[AtRiskUser]
    summary: str
    text: str  # the team notification, one line per user


class ChurnActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @local_activity
    @activity.defn
    async def query_at_risk_users(self, criteria: ChurnCriteria) -> AtRiskUsers:
        """Trials ending in (now, now + window], and no activity since `inactive_for` ago (or
        never): the people worth a nudge before their trial lapses."""
        now = datetime.now(UTC)
        query = (
            select(User)
            .where(
                User.trial_ends_at > now,
                User.trial_ends_at <= now + criteria.trial_ends_within,
                or_(
                    User.last_active_at.is_(None),
                    User.last_active_at < now - criteria.inactive_for,
                ),
                # Someone who already subscribed is not at risk, whatever their trial date says.
                ~exists().where(
                    Subscription.user_id == User.id, Subscription.status.in_(PAYING_STATUSES)
                ),
            )
            .order_by(User.trial_ends_at, User.id)
        )
        async with self._sessions() as session:
            users = (await session.scalars(query)).all()
        return AtRiskUsers(
            as_of=now,
            users=[
                AtRiskUser(
                    user_id=u.id,
                    email=u.email,
                    name=u.name,
                    plan=u.plan,
                    trial_ends_at=u.trial_ends_at,
                    trial_ends_in=math.ceil((u.trial_ends_at - now) / timedelta(days=1)),
                    last_active_at=u.last_active_at,
                )
                for u in users
                if u.trial_ends_at is not None  # guaranteed by the query; narrows the type
            ],
        )

    @local_activity
    @activity.defn
    async def compile_churn_report(self, at_risk: AtRiskUsers) -> ChurnReport:
        count = len(at_risk.users)
        summary = f"{count} {'user' if count == 1 else 'users'} at risk of churning"
        lines = [f"*Churn risk {at_risk.as_of:%Y-%m-%d}*: {summary}"]
        for user in at_risk.users[:MAX_LISTED]:
            seen = (
                f"last active {user.last_active_at:%Y-%m-%d %H:%M} UTC"
                if user.last_active_at
                else "never active"
            )
            days = "day" if user.trial_ends_in == 1 else "days"
            lines.append(
                f"- {user.name} <{user.email}> ({user.plan}): trial ends in "
                f"{user.trial_ends_in} {days}, {seen}"
            )
        if count > MAX_LISTED:
            lines.append(f"... and {count - MAX_LISTED} more")
        return ChurnReport(
            date=at_risk.as_of,
            at_risk_count=count,
            users=at_risk.users,
            summary=summary,
            text="\n".join(lines),
        )
