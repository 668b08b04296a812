"""The raw rendition's API: `uvicorn bench.raw.api:app`. A signup endpoint as a Temporal user
would write it: the user row in one transaction (the same check and insert as the project's
signup, the same role and last-active stamp), then the four workflows started directly with the
client, concurrently, and the same access token in the answer: the application's own work is the
same on both sides, so what differs is the engine's. No event log, no router. RAW_MODE
(naive | split) and RAW_TRIAL (child | activity) ride in the workflow input.

It answers 201 once the four starts returned, as the project's signup does after routing."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, cast

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from ulid import ULID

from api.security import is_admin_email, issue_access_token
from bench.raw.connection import connect
from bench.raw.inputs import SignupInput, TrialStart
from db.models import User
from inngest_temporal import Sessions, create_engine, session_factory, utcnow
from settings import load_settings

settings = load_settings()

# Workflow type -> its id for a signup: the project's ids, so both sides' runs look alike.
SIGNUP_WORKFLOWS = {
    "provision-account": "provision-account-signup-{user_id}",
    "send-welcome-email": "send-welcome-email-signup-{user_id}",
    "onboarding-with-verification": "onboarding-with-verification-{user_id}",
    "sync-to-crm": "sync-to-crm-signup-{user_id}",
}


class SignupRequest(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    email: EmailStr = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    plan: Literal["free", "pro", "enterprise"] = "free"
    crm_provider: str | None = Field(default=None, min_length=1, max_length=50)


class SignupResponse(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    user_id: str
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    status: Literal["created"] = "created"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_engine(settings.database_url)  # the project's SQLite driver and pragmas
    app.state.sessions = session_factory(engine)
    app.state.client = await connect()
    yield
    await engine.dispose()


app = FastAPI(title="raw signup", lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/auth/signup", status_code=201, response_model=SignupResponse)
async def signup(body: SignupRequest, request: Request) -> SignupResponse:
    sessions: Sessions = request.app.state.sessions
    client: Client = request.app.state.client
    email = body.email.lower()
    user_id = f"user_{ULID()}"
    role = "admin" if is_admin_email(settings, email) else "member"
    taken = HTTPException(409, f"a user with email {email} already exists")
    try:
        async with sessions() as session, session.begin():
            if await session.scalar(select(User.id).where(User.email_is(email))):
                raise taken
            session.add(
                User(
                    id=user_id,
                    email=email,
                    name=body.name,
                    plan=body.plan,
                    role=role,
                    last_active_at=utcnow(),
                )
            )
    except IntegrityError:
        raise taken from None
    signup_input = SignupInput(
        user_id=user_id,
        email=email,
        name=body.name,
        plan=body.plan,
        crm_provider=body.crm_provider or "default",
        split=os.environ.get("RAW_MODE", "naive") == "split",
        trial=cast(TrialStart, os.environ.get("RAW_TRIAL", "activity")),
    )
    await asyncio.gather(
        *(
            client.start_workflow(
                workflow_type,
                signup_input,
                id=id_template.format(user_id=user_id),
                task_queue=settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            for workflow_type, id_template in SIGNUP_WORKFLOWS.items()
        )
    )
    return SignupResponse(
        user_id=user_id, access_token=issue_access_token(settings, user_id), role=role
    )
