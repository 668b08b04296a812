"""Who the calling customer is, for endpoints acting on the caller's own account.

TEMPORARY: until customer sessions land (`Authorization: Bearer <accessToken>`, being added in
parallel), the caller names itself in the `X-User-Id` header, which anyone can forge. Every
endpoint takes the user from `CurrentUserId`, so switching to the session token is this one
function's body."""

from typing import Annotated

from fastapi import Depends, Header

from api.errors import Unauthorized


def current_user_id(
    x_user_id: Annotated[
        str | None,
        Header(
            max_length=64,
            description="TEMPORARY: the caller's user id, until customer sessions replace it",
        ),
    ] = None,
) -> str:
    if not x_user_id:
        raise Unauthorized("send X-User-Id: <userId> (temporary, until customer sessions)")
    return x_user_id


CurrentUserId = Annotated[str, Depends(current_user_id)]
