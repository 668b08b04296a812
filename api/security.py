"""Who is calling, and what they may do. Every endpoint declares one of these:

- anyone: sign-up, sign-in, the verification and sign-in links (their tokens are the proof),
  the Stripe webhook (its signature is), health, the catalogue;
- `CurrentUser`: a customer's session (`Authorization: Bearer <accessToken>` from sign-up or a
  sign-in link, or a token of the team's identity provider when AUTH_JWKS_URL is set);
- `STAFF_ONLY`: `Authorization: Bearer <ADMIN_TOKEN>`, or the session of a user with the admin
  role (granted by ADMIN_EMAILS);
- event producers: an event key (see the event API).

No credentials: 401. Credentials that do not verify (wrong, expired, another purpose): 401.
Valid credentials without the right: 403 (staff), or 404 for another user's things."""

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from api.deps import ServicesDep
from api.errors import Forbidden, Unauthorized
from auth.oidc import InvalidIdentity, OidcVerifier
from auth.tokens import ExpiredToken, InvalidToken, issue_token, verify_token
from db.models import User
from settings import Settings

MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class Caller:
    user: User | None = None
    staff: bool = False
    # A valid event key (producers may read the event log).
    producer: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user is None and not self.staff and not self.producer

    def may_see(self, owner_id: str) -> bool:
        """A customer sees their own things; staff see everyone's."""
        return self.staff or (self.user is not None and self.user.id == owner_id)


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def issue_access_token(settings: Settings, user_id: str) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=settings.access_token_minutes)
    return issue_token(settings.signing_key, "access", user_id, expires)


def is_admin_email(settings: Settings, email: str) -> bool:
    return email.lower() in settings.admin_emails


async def caller(request: Request, services: ServicesDep) -> Caller:
    token = bearer(request)
    if not token:
        return Caller()
    settings = services.settings
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("the bearer token is too long")
    raw = token.encode("utf-8", "surrogateescape")
    if settings.admin_token and hmac.compare_digest(raw, settings.admin_token.encode()):
        return Caller(staff=True)
    user_id = await _user_of(services.oidc, settings, token)
    if user_id is None:
        if services.event_keys.required and services.event_keys.scope(token) is not None:
            return Caller(producer=True)
        raise Unauthorized("the bearer token is not valid")
    async with services.sessions() as session:
        if user_id.startswith("email:"):
            user = await session.scalar(
                select(User).where(User.email_is(user_id.removeprefix("email:")))
            )
        else:
            user = await session.get(User, user_id)
    if user is None:
        raise Unauthorized("the account for this token no longer exists")
    return Caller(user=user, staff=user.role == "admin")


async def _user_of(oidc: OidcVerifier | None, settings: Settings, token: str) -> str | None:
    """Our own access token's user id, or `email:<address>` from an identity provider's token;
    None when the token is neither (maybe an event key)."""
    try:
        return verify_token(settings.signing_key, token, "access", datetime.now(UTC)).user_id
    except ExpiredToken as err:
        raise Unauthorized(f"{err}: sign in again") from None
    except InvalidToken:
        pass
    if oidc is not None and token.count(".") == 2:
        try:
            identity = await oidc.verify(token)
        except InvalidIdentity as err:
            raise Unauthorized(str(err)) from None
        return f"email:{identity.email}"
    return None


CallerDep = Annotated[Caller, Depends(caller)]


async def current_user(who: CallerDep) -> User:
    if who.user is None:
        raise Unauthorized("sign in first: send Authorization: Bearer <accessToken>")
    return who.user


async def viewer(who: CallerDep) -> Caller:
    """A signed-in customer or staff (for reading things that belong to a customer)."""
    if who.user is None and not who.staff:
        raise Unauthorized("sign in first: send Authorization: Bearer <accessToken>")
    return who


async def require_staff(who: CallerDep) -> None:
    if who.staff:
        return
    if who.user is None:
        raise Unauthorized("staff only: send Authorization: Bearer <ADMIN_TOKEN> or an admin's")
    raise Forbidden("staff only: this account is not an admin")


async def may_read_events(who: CallerDep, services: ServicesDep) -> None:
    """The event log shows names and emails: staff, or a producer holding an event key; without
    any key configured (development), anyone."""
    open_log = not services.event_keys.required and services.settings.is_development
    if who.staff or who.producer or open_log:
        return
    if who.anonymous:
        raise Unauthorized("send Authorization: Bearer <ADMIN_TOKEN> or an event key")
    raise Forbidden("the event log is for staff and event producers")


CurrentUser = Annotated[User, Depends(current_user)]
Viewer = Annotated[Caller, Depends(viewer)]
STAFF_ONLY = Depends(require_staff)
