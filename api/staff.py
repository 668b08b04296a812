"""Staff-only endpoints: `Authorization: Bearer <ADMIN_TOKEN>` (missing -> 401, wrong -> 403).

Use as `@router.post(..., dependencies=[STAFF_ONLY])`."""

import hmac

from fastapi import Depends, Request

from api.deps import SettingsDep
from api.errors import Forbidden, Unauthorized
from settings import Settings


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_staff_token(token: str, settings: Settings) -> bool:
    return hmac.compare_digest(
        token.encode("utf-8", "surrogateescape"), settings.admin_token.encode()
    )


def require_staff(request: Request, settings: SettingsDep) -> None:
    token = bearer(request)
    if not token:
        raise Unauthorized("staff only: send Authorization: Bearer <ADMIN_TOKEN>")
    if not is_staff_token(token, settings):
        raise Forbidden("wrong admin token")


STAFF_ONLY = Depends(require_staff)
