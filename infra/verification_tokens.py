"""Signed, expiring email-verification tokens: issued by the verification step, checked by
`GET /api/auth/verify`. URL-safe: `<claims>.<signature>`, both base64url without padding, the
signature an HMAC-SHA256 of the claims with SECRET_KEY."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOKEN_LIFETIME = timedelta(hours=24)
# Signed into every token, so a token made for another purpose never verifies an email.
PURPOSE = "email-verification"


@dataclass(frozen=True)
class VerificationClaims:
    user_id: str
    expires_at: datetime


class InvalidToken(ValueError):
    """Malformed, or not signed with our key."""


class ExpiredToken(ValueError):
    def __init__(self, expires_at: datetime) -> None:
        super().__init__(f"the verification link expired at {expires_at.isoformat()}")
        self.expires_at = expires_at


def issue_token(secret_key: str, user_id: str, expires_at: datetime) -> str:
    claims = {"purpose": PURPOSE, "userId": user_id, "exp": int(expires_at.timestamp())}
    body = _encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_encode(_sign(secret_key, body))}"


def verify_token(secret_key: str, token: str, now: datetime) -> VerificationClaims:
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        raise InvalidToken("the verification token is malformed")
    try:
        given = _decode(signature)
    except ValueError:
        raise InvalidToken("the verification token is malformed") from None
    if not hmac.compare_digest(given, _sign(secret_key, body)):
        raise InvalidToken("the verification token's signature is invalid")
    # Signed by us from here on: a shape problem is our bug, still reported as malformed.
    try:
        claims = json.loads(_decode(body))
        user_id, exp = claims["userId"], claims["exp"]
        valid = claims.get("purpose") == PURPOSE and isinstance(user_id, str) and user_id
        expires_at = datetime.fromtimestamp(int(exp), UTC)
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InvalidToken("the verification token is malformed") from None
    if not valid:
        raise InvalidToken("the token is not an email-verification token")
    if now >= expires_at:
        raise ExpiredToken(expires_at)
    return VerificationClaims(user_id=user_id, expires_at=expires_at)


def _sign(secret_key: str, body: str) -> bytes:
    return hmac.new(secret_key.encode(), body.encode(), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError(str(err)) from None
