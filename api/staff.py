"""Staff-only endpoints: `Authorization: Bearer <ADMIN_TOKEN>` (missing -> 401, wrong -> 403).

Use as `@router.post(..., dependencies=[STAFF_ONLY])`."""

import hmac

from fastapi import Depends, Request

from api.deps import SettingsDep
from api.errors import forbidden, unauthorized


def require_staff(request: Request, settings: SettingsDep) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("staff only: send Authorization: Bearer <ADMIN_TOKEN>")
    if not hmac.compare_digest(token.strip().encode(), settings.admin_token.encode()):
        raise forbidden("wrong admin token")


STAFF_ONLY = Depends(require_staff)
