"""Accounts: sign-up (the user and `user/signup.completed` stored together, or neither), and
sign-in by email link: `POST /api/auth/login` sends a one-time link whose callback returns a fresh
access token. Both answer with the customer's `accessToken` (Authorization: Bearer ...)."""

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query, status
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, BadRequest, Conflict, Gone, Unauthorized
from api.security import CurrentUser, is_admin_email, issue_access_token
from auth.tokens import ExpiredToken, InvalidToken, verify_token
from db.models import User
from events.fields import Email
from events.users import (
    Plan,
    SignedIn,
    SignedInData,
    SignInRequested,
    SignInRequestedData,
    SignupCompleted,
    SignupCompletedData,
)
from inngest_temporal import CamelModel, utcnow

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


class SignupRequest(CamelModel):
    email: Email = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    plan: Plan = "free"
    crm_provider: str | None = Field(default=None, min_length=1, max_length=50)


class Session(CamelModel):
    user_id: str
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str


class SignupResponse(Session):
    status: Literal["created"] = "created"


class SignInRequest(CamelModel):
    email: Email = Field(max_length=254)


class SignInSent(CamelModel):
    status: Literal["sent"] = "sent"
    message: str = "If an account exists for this address, a sign-in link is on its way."


class Me(CamelModel):
    user_id: str
    email: str
    name: str
    plan: str
    role: str


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=SignupResponse)
async def signup(body: SignupRequest, services: ServicesDep) -> SignupResponse:
    email = body.email.lower()
    role = "admin" if is_admin_email(services.settings, email) else "member"
    user = User(
        id=f"user_{ULID()}",
        email=email,
        name=body.name,
        plan=body.plan,
        role=role,
        last_active_at=utcnow(),
    )
    taken = Conflict(f"a user with email {email} already exists")
    try:
        async with services.change() as change:
            if await change.session.scalar(select(User.id).where(User.email_is(email))):
                raise taken
            # Written at the commit, with the event (no flush of its own first).
            change.session.add(user)
            await change.emit(
                SignupCompleted(
                    id=f"signup-{user.id}",
                    data=SignupCompletedData(
                        user_id=user.id,
                        email=email,
                        name=body.name,
                        plan=body.plan,
                        crm_provider=body.crm_provider,
                    ),
                )
            )
    except IntegrityError:
        raise taken from None
    return SignupResponse(
        user_id=user.id, access_token=issue_access_token(services.settings, user.id), role=role
    )


@router.post("/login", status_code=status.HTTP_202_ACCEPTED, response_model=SignInSent)
async def request_sign_in(body: SignInRequest, services: ServicesDep) -> SignInSent:
    """The same answer whether or not the address has an account: nothing to learn from it."""
    email = body.email.lower()
    async with services.change() as change:
        user = await change.session.scalar(select(User).where(User.email_is(email)))
        if user is not None:
            await change.emit(
                SignInRequested(
                    id=f"sign-in-{ULID()}",
                    data=SignInRequestedData(user_id=user.id, email=user.email),
                )
            )
    return SignInSent()


@router.get("/login/callback", response_model=Session)
async def sign_in(
    services: ServicesDep, token: str = Query(min_length=1, max_length=2000)
) -> Session:
    settings = services.settings
    try:
        claims = verify_token(settings.signing_key, token, "sign-in", datetime.now(UTC))
    except InvalidToken as err:
        raise BadRequest(str(err)) from None
    except ExpiredToken as err:
        raise Gone(f"{err}; ask for a new one") from None
    if claims.token_id is None:
        raise BadRequest("the sign-in link is malformed")
    async with services.change() as change:
        user = await change.session.get(User, claims.user_id)
        if user is None:
            raise Unauthorized("the account for this sign-in link no longer exists")
        # The link's id is its event's: a second use stores nothing, and is refused.
        used = await change.emit(
            SignedIn(id=f"signed-in-{claims.token_id}", data=SignedInData(user_id=user.id))
        )
        if not used.stored:
            raise Conflict("this sign-in link was used before: ask for a new one")
        if is_admin_email(settings, user.email):
            user.role = "admin"
    token = issue_access_token(settings, user.id)
    return Session(user_id=user.id, access_token=token, role=user.role)


@router.get("/me", response_model=Me)
async def me(user: CurrentUser) -> Me:
    return Me(user_id=user.id, email=user.email, name=user.name, plan=user.plan, role=user.role)
