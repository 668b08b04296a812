"""Path parameters shared by several routes, with the bounds of the columns they look up (so a
hostile id is a 422 naming it, and the OpenAPI document states the rule)."""

from typing import Annotated

from fastapi import Path

from inngest_temporal.events import PRINTABLE

# Order ids are `ord_<ULID>`; the column holds 64 characters.
OrderIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=PRINTABLE)]
