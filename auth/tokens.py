"""Signed, expiring tokens of our own, one format for every purpose: the email-verification link,
the one-time sign-in link and the customer's access token. URL-safe: `<claims>.<signature>`,
both base64url without padding, the signature an HMAC-SHA256 of the claims with SECRET_KEY.

The purpose is signed into every token, so a token made for one purpose (a verification link)
never works as another (a session)."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Purpose = Literal["email-verification", "sign-in", "access"]
NAMES: dict[str, str] = {
    "email-verification": "verification token",
    "sign-in": "sign-in token",
    "access": "access token",
}


@dataclass(frozen=True)
class Claims:
    purpose: Purpose
    user_id: str
    expires_at: datetime
    token_id: str | None = None


class InvalidToken(ValueError):
    """Malformed, not signed with our key, or made for another purpose."""


class ExpiredToken(ValueError):
    def __init__(self, purpose: Purpose, expires_at: datetime) -> None:
        super().__init__(f"the {NAMES[purpose]} expired at {expires_at.isoformat()}")
        self.expires_at = expires_at


def issue_token(
    secret_key: str,
    purpose: Purpose,
    user_id: str,
    expires_at: datetime,
    token_id: str | None = None,
) -> str:
    claims = {"purpose": purpose, "userId": user_id, "exp": int(expires_at.timestamp())}
    if token_id is not None:
        claims["jti"] = token_id
    body = _encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_encode(_sign(secret_key, body))}"


def verify_token(secret_key: str, token: str, purpose: Purpose, now: datetime) -> Claims:
    name = NAMES[purpose]
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        raise InvalidToken(f"the {name} is malformed")
    try:
        given = _decode(signature)
    except ValueError:
        raise InvalidToken(f"the {name} is malformed") from None
    if not hmac.compare_digest(given, _sign(secret_key, body)):
        raise InvalidToken(f"the {name}'s signature is invalid")
    # Signed by us from here on: a shape problem is our bug, still reported as malformed.
    try:
        claims = json.loads(_decode(body))
        user_id, exp = claims["userId"], claims["exp"]
        token_id = claims.get("jti")
        valid = claims.get("purpose") == purpose and isinstance(user_id, str) and user_id
        expires_at = datetime.fromtimestamp(int(exp), UTC)
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InvalidToken(f"the {name} is malformed") from None
    if not valid:
        raise InvalidToken(f"the token is not a {name}")
    if now >= expires_at:
        raise ExpiredToken(purpose, expires_at)
    return Claims(purpose, user_id, expires_at, token_id if isinstance(token_id, str) else None)


def _sign(secret_key: str, body: str) -> bytes:
    return hmac.new(secret_key.encode(), body.encode(), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError) as err:
        raise ValueError(str(err)) from None
