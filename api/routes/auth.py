"""Sign-up: the application's own user creation, which sends `user/signup.completed`."""

from typing import Any

from fastapi import APIRouter, status
from pydantic import EmailStr, Field
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from temporalio.service import RPCError
from ulid import ULID

from api.deps import RouterDep, SessionsDep
from api.errors import conflict, unavailable
from db.models import User
from events.envelope import CamelModel
from events.users import Plan, SignupCompleted, SignupCompletedData

router = APIRouter(prefix="/api/auth", tags=["auth"])


class SignupRequest(CamelModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    plan: Plan = "free"
    crm_provider: str | None = Field(default=None, max_length=50)


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def signup(body: SignupRequest, sessions: SessionsDep, events: RouterDep) -> dict[str, Any]:
    email = body.email.lower()
    user_id = f"user_{ULID()}"
    async with sessions() as session:
        if await session.scalar(select(User.id).where(func.lower(User.email) == email)):
            raise conflict(f"a user with email {email} already exists")
        session.add(User(id=user_id, email=email, name=body.name, plan=body.plan))
        try:
            await session.commit()
        except IntegrityError:
            raise conflict(f"a user with email {email} already exists") from None
    event = SignupCompleted(
        id=f"signup-{user_id}",
        data=SignupCompletedData(
            user_id=user_id,
            email=email,
            name=body.name,
            plan=body.plan,
            crm_provider=body.crm_provider,
        ),
    )
    try:
        await events.send([event])
    except RPCError as err:
        # Nothing half-done: without its pipelines the sign-up did not happen.
        async with sessions() as session:
            await session.execute(delete(User).where(User.id == user_id))
            await session.commit()
        raise unavailable(f"Temporal is unavailable, please retry: {err.message}") from err
    return {"userId": user_id, "status": "created"}
