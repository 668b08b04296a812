"""Inngest's event envelope, typed: `name`, `data`, optional `id`, `ts` (ms), `v`, `user`."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Python attributes in snake_case, JSON in the camelCase the seeds and Inngest SDKs use."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class Event(CamelModel):
    """Base of every event. Subclasses narrow `name` to a Literal and type `data`.

    `id` and `ts` may be left empty by the sender (as Inngest SDKs do); the router stamps them
    when the event is accepted, so constructing an event inside a workflow stays deterministic.
    """

    name: str
    data: Any
    # The event log's column sizes (db/models/events.py): PostgreSQL refuses a longer value.
    id: str = Field(default="", max_length=120)
    ts: int = 0
    v: str | None = Field(default=None, max_length=50)
    user: Any = None

    event_name: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        default = cls.model_fields["name"].default
        if isinstance(default, str):
            cls.event_name = default

    @field_validator("id", mode="before")
    @classmethod
    def _empty_id(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("ts", mode="before")
    @classmethod
    def _empty_ts(cls, value: Any) -> Any:
        return 0 if value is None else value

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
