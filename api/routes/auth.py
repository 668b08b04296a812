"""Sign-up: the application's own user creation, which sends `user/signup.completed` in the same
transaction (the user and the event are stored together, or neither is)."""

from typing import Literal

from fastapi import APIRouter, status
from pydantic import EmailStr, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from api.deps import ServicesDep
from api.errors import Conflict
from db.models import User
from events.users import Plan, SignupCompleted, SignupCompletedData
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/auth", tags=["auth"])


class SignupRequest(CamelModel):
    email: EmailStr = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    plan: Plan = "free"
    crm_provider: str | None = Field(default=None, min_length=1, max_length=50)


class SignupResponse(CamelModel):
    user_id: str
    status: Literal["created"] = "created"


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=SignupResponse)
async def signup(body: SignupRequest, services: ServicesDep) -> SignupResponse:
    email = body.email.lower()
    user_id = f"user_{ULID()}"
    taken = Conflict(f"a user with email {email} already exists")
    try:
        async with services.change() as change:
            if await change.session.scalar(select(User.id).where(func.lower(User.email) == email)):
                raise taken
            change.session.add(User(id=user_id, email=email, name=body.name, plan=body.plan))
            await change.session.flush()
            await change.emit(
                SignupCompleted(
                    id=f"signup-{user_id}",
                    data=SignupCompletedData(
                        user_id=user_id,
                        email=email,
                        name=body.name,
                        plan=body.plan,
                        crm_provider=body.crm_provider,
                    ),
                )
            )
    except IntegrityError:
        raise taken from None
    return SignupResponse(user_id=user_id)
