"""Reading a JSON body within the size limit, with errors that say what is wrong."""

import json
from typing import Any

from fastapi import Request

from api.errors import bad_request, too_large


async def read_json(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"request body is over the {limit} byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise too_large(f"request body is over the {limit} byte limit")
    if not body:
        raise bad_request("request body is empty: expected JSON")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise bad_request(f"malformed JSON: {err}") from None
