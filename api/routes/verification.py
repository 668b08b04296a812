"""`GET /api/auth/verify?token=...`: the link in the verification email. A valid token sends
`user/email.verified` (the waiting onboarding run does the activation); a bad, expired or
reused one gets a 4xx naming the problem, and nothing is sent."""

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES, BadRequest, Conflict, Gone, NotFound
from auth.tokens import ExpiredToken, InvalidToken, verify_token
from db.models import User
from events.users import EmailVerified, EmailVerifiedData
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


class VerifiedResponse(CamelModel):
    status: Literal["verified"] = "verified"
    user_id: str
    message: str = "Thanks, your email is verified."


def verified_event_id(user_id: str) -> str:
    """One verification per user: a second click is recognised, and routed at most once."""
    return f"email-verified-{user_id}"


@router.get("/verify", response_model=VerifiedResponse)
async def verify_email(
    services: ServicesDep, token: str = Query(min_length=1, max_length=2000)
) -> VerifiedResponse:
    try:
        claims = verify_token(
            services.settings.signing_key, token, "email-verification", datetime.now(UTC)
        )
    except InvalidToken as err:
        raise BadRequest(str(err)) from None
    except ExpiredToken as err:
        raise Gone(f"{err}; ask for a new one") from None
    used = Conflict("this email address is already verified: the link was used before")
    async with services.change() as change:
        user = await change.session.get(User, claims.user_id)
        if user is None:
            raise NotFound("the account for this verification link no longer exists")
        if user.email_verified_at is not None:
            raise used
        event = EmailVerified(
            id=verified_event_id(user.id), data=EmailVerifiedData(user_id=user.id, email=user.email)
        )
        if not (await change.emit(event)).stored:
            raise used
    return VerifiedResponse(user_id=claims.user_id)
