"""Inngest's event envelope, typed: `name`, `data`, optional `id`, `ts` (ms), `v`, `user`.

The envelope's own bounds (Inngest's where it has them) live here, declared on the fields so the
OpenAPI document and the validator state the same rules."""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

# Printable text: no control characters (they break logs, headers and the Web UI).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
MAX_NAME_LENGTH = 256
# Inngest accepts timestamps between 1980 and 2100; 0 means "not given: stamp it on arrival".
MIN_TS = 315_532_800_000  # 1980-01-01T00:00:00Z in ms
MAX_TS = 4_102_444_800_000  # 2100-01-01T00:00:00Z in ms

EventName = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=PRINTABLE)
]
EventId = Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH, pattern=PRINTABLE)]


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

    `id` and `ts` may be left empty by the sender (as Inngest SDKs do); they are stamped when the
    event is stored, so constructing an event inside a workflow stays deterministic.
    """

    name: EventName
    data: Any
    id: EventId = ""
    ts: Annotated[
        int,
        Field(ge=0, le=MAX_TS),
        # What the validator below holds too: 0, or a time between 1980 and 2100.
        WithJsonSchema(
            {
                "type": "integer",
                "anyOf": [{"const": 0}, {"minimum": MIN_TS, "maximum": MAX_TS}],
                "description": "milliseconds since the epoch, between 1980 and 2100; 0 or "
                "absent: now",
            }
        ),
    ] = 0
    v: Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH, pattern=PRINTABLE)] | None = (
        None
    )
    user: Any = Field(
        default=None, description="free-form, within the event's size limit (MAX_EVENT_BYTES)"
    )

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

    @field_validator("ts")
    @classmethod
    def _within_range(cls, value: int) -> int:
        if 0 < value < MIN_TS:
            raise ValueError("ts must be between 1980 and 2100 (milliseconds since the epoch)")
        return value

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ScheduledTimerData(CamelModel):
    cron: str


class ScheduledTimer(Event):
    """What a cron-triggered function receives, as Inngest's `inngest/scheduled.timer`."""

    name: Literal["inngest/scheduled.timer"] = "inngest/scheduled.timer"
    data: ScheduledTimerData


class FailureDetail(BaseModel):
    name: str
    message: str
    stack: str | None = None


class FunctionFailedData(BaseModel):
    """Inngest's payload, snake_case as Inngest sends it."""

    function_id: str
    run_id: str
    error: FailureDetail
    event: dict[str, Any]


class FunctionFailed(Event):
    """Sent for every run that failed after its retries; any function may listen to it."""

    name: Literal["inngest/function.failed"] = "inngest/function.failed"
    data: FunctionFailedData
