"""Field types shared by the events and the API's request bodies."""

from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic.networks import import_email_validator, validate_email
from pydantic_core import CoreSchema

import_email_validator()  # as EmailStr does: a missing email-validator fails at import


@lru_cache(maxsize=4096)
def _valid_email(value: str) -> str:
    # The same address is validated again and again in one process (a signup's request, then
    # its event, then every event about that user), and email-validator is pure Python: about a
    # quarter of a millisecond each time in a request. Invalid addresses raise, and are not kept.
    return validate_email(value)[1]


class _EmailJsonSchema:
    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core_schema)
        schema.update(type="string", format="email")
        return schema


# pydantic's EmailStr, with each address validated once per process.
Email = Annotated[str, AfterValidator(_valid_email), _EmailJsonSchema]
