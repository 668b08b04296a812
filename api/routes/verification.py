"""`GET /api/auth/verify?token=...`: the link in the verification email. A valid token sends
`user/email.verified` (the waiting onboarding run does the activation); a bad, expired or
reused one gets a 4xx naming the problem, and nothing is sent."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select
from temporalio.service import RPCError

from api.deps import RouterDep, SessionsDep, SettingsDep
from api.errors import bad_request, conflict, not_found, unavailable
from db.models import EventRecord, User
from events.users import EmailVerified, EmailVerifiedData
from infra.verification_tokens import ExpiredToken, InvalidToken, verify_token

router = APIRouter(prefix="/api/auth", tags=["auth"])


def verified_event_id(user_id: str) -> str:
    """One verification per user: a second click is recognised, and routed at most once."""
    return f"email-verified-{user_id}"


@router.get("/verify")
async def verify_email(
    sessions: SessionsDep,
    events: RouterDep,
    settings: SettingsDep,
    token: str = Query(min_length=1, max_length=2000),
) -> dict[str, Any]:
    try:
        claims = verify_token(settings.secret_key, token, datetime.now(UTC))
    except InvalidToken as err:
        raise bad_request(str(err)) from None
    except ExpiredToken as err:
        raise HTTPException(status_code=410, detail=f"{err}; ask for a new one") from None
    event_id = verified_event_id(claims.user_id)
    async with sessions() as session:
        user = await session.get(User, claims.user_id)
        already_sent = await session.scalar(
            select(EventRecord.id).where(EventRecord.id == event_id)
        )
    if user is None:
        raise not_found("the account for this verification link no longer exists")
    if user.email_verified_at is not None or already_sent is not None:
        raise conflict("this email address is already verified: the link was used before")
    event = EmailVerified(id=event_id, data=EmailVerifiedData(user_id=user.id, email=user.email))
    try:
        await events.send([event])
    except RPCError as err:
        raise unavailable(
            f"Temporal is unavailable, please open the link again: {err.message}"
        ) from err
    return {"status": "verified", "userId": user.id, "message": "Thanks, your email is verified."}
