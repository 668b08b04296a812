"""The event API as FastAPI routes: ours (`POST /api/events`), Inngest's (`POST /e/{event_key}`)
so an application using an Inngest SDK can send here unchanged, and the log (`GET
/api/events/{id}`).

An accepted event is stored before the answer: 200 when it has also been routed, 202 with
`"routed": false` when Temporal could not be reached (the dispatcher routes it within seconds of
Temporal answering again). A 5xx means nothing was stored."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Union

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Request, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus

from inngest_temporal.catalog import EventCatalog, InvalidEvent
from inngest_temporal.db import Sessions
from inngest_temporal.dispatcher import Dispatcher
from inngest_temporal.events import MAX_NAME_LENGTH, PRINTABLE, CamelModel, Event
from inngest_temporal.json_body import read_json
from inngest_temporal.keys import EventKeys, allowed, seeded_ids
from inngest_temporal.store import EventRoute, StoredEvent


@dataclass
class EngineServices:
    """What the routes use, made once at start-up: `app.state.engine`."""

    client: Client
    sessions: Sessions
    dispatcher: Dispatcher


@dataclass(frozen=True)
class EventApiLimits:
    max_body_bytes: int = 3 * 1024 * 1024
    max_events_per_request: int = 5000
    # Each event becomes the input of a Temporal run: far below Temporal's payload limits (a
    # warning at 512 KiB, a refusal at 2 MiB), so an accepted event can always start its runs.
    max_event_bytes: int = 256 * 1024


class SendResult(BaseModel):
    ids: list[str]
    status: int
    routed: bool


class RunRecord(CamelModel):
    function_id: str
    workflow_id: str
    action: str
    status: str | None = None
    cancelled_by: str | None = None


class EventRecord(CamelModel):
    id: str
    name: str
    data: Any
    user: Any = None
    ts: int
    v: str | None = None
    received_at: datetime
    routed: bool
    runs: list[RunRecord]


async def engine_services(request: Request) -> EngineServices:
    services: EngineServices = request.app.state.engine
    return services


Engine = Annotated[EngineServices, Depends(engine_services)]
EventIdPath = Annotated[str, Path(max_length=MAX_NAME_LENGTH, pattern=PRINTABLE)]


def event_routes(
    keys: EventKeys,
    limits: EventApiLimits,
    authorize_read: Callable[..., Any],
    *,
    documented: bool = False,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> APIRouter:
    """`authorize_read`: a dependency deciding who may read the log (the application's).
    `documented`: the request bodies refer to the `SentEvents` schema `include_event_api` adds.
    `responses`: documented on every route (the application's error answers)."""
    router = APIRouter(tags=["events"], responses=responses)
    body = (
        {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{EVENTS_SCHEMA}"}
                    }
                },
            }
        }
        if documented
        else None
    )

    async def accept(
        request: Request, response: Response, engine: EngineServices, patterns: tuple[str, ...]
    ) -> SendResult:
        raw = await read_json(request, limits.max_body_bytes)
        if isinstance(raw, list) and len(raw) > limits.max_events_per_request:
            raise HTTPException(413, f"at most {limits.max_events_per_request} events per request")
        _within_event_size(raw, limits.max_event_bytes)
        catalog = engine.dispatcher.router.registry.catalog
        try:
            events = catalog.parse_many(raw)
        except InvalidEvent as err:
            raise HTTPException(422, str(err)) from None
        for event in events:
            if not allowed(patterns, event.name):
                raise HTTPException(403, f"this event key may not send '{event.name}'")
        events = _with_seeded_ids(events, request.headers.get("x-inngest-event-id-seed"))
        async with engine.sessions() as session, session.begin():
            accepted = await engine.dispatcher.store(session, events)
        routed = await engine.dispatcher.route(accepted)
        response.status_code = 200 if routed else 202
        return SendResult(ids=accepted.ids, status=response.status_code, routed=routed)

    @router.post(
        "/api/events",
        response_model=SendResult,
        responses={202: {"model": SendResult, "description": "stored, not routed yet"}},
        openapi_extra=body,
    )
    async def send_events(
        request: Request,
        response: Response,
        engine: Engine,
        authorization: Annotated[str | None, Header(max_length=600)] = None,
    ) -> SendResult:
        """Send one event or a list (all-or-nothing), with `Authorization: Bearer <event key>`."""
        given = (authorization or "").removeprefix("Bearer ").strip()
        patterns = keys.scope(given)
        if patterns is None:
            raise HTTPException(
                401, "missing or wrong event key (Authorization: Bearer <EVENT_KEY>)"
            )
        return await accept(request, response, engine, patterns)

    @router.post(
        "/e/{event_key}",
        response_model=SendResult,
        responses={202: {"model": SendResult, "description": "stored, not routed yet"}},
        openapi_extra=body,
    )
    async def send_events_inngest(
        event_key: Annotated[str, Path(max_length=600)],
        request: Request,
        response: Response,
        engine: Engine,
    ) -> SendResult:
        """Inngest's event API: the key is in the path."""
        patterns = keys.scope(event_key)
        if patterns is None:
            raise HTTPException(401, "wrong event key")
        return await accept(request, response, engine, patterns)

    @router.get(
        "/api/events/{event_id}",
        response_model=EventRecord,
        dependencies=[Depends(authorize_read)],
    )
    async def get_event(event_id: EventIdPath, engine: Engine) -> EventRecord:
        """The event as accepted and what it did: the runs it started, signalled or cancelled."""
        await engine.dispatcher.flush()  # what this process routed, written before it is read
        async with engine.sessions() as session:
            record = await session.get(StoredEvent, event_id)
            routes = (
                await session.scalars(
                    select(EventRoute)
                    .where(EventRoute.event_id == event_id)
                    .order_by(EventRoute.function_id)
                )
            ).all()
        if record is None:
            raise HTTPException(404, f"no event with id '{event_id}'")
        runs = await asyncio.gather(*(_with_status(engine.client, r) for r in routes))
        return EventRecord(
            id=record.id,
            name=record.name,
            data=record.data,
            user=record.user,
            ts=record.ts,
            v=record.v,
            received_at=record.received_at,
            routed=record.routed_at is not None,
            runs=list(runs),
        )

    return router


EVENTS_SCHEMA = "SentEvents"


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes as routes of the app itself. Since FastAPI 0.137 `include_router`
    keeps the router as one node that the app matches lazily: a request walks the routes of
    every router before its own, and its own twice (to choose the router, then within it), which
    cost the API 0.16M instructions a signup, of the 6.3M it spent outside Temporal's client
    (bench/api_instructions.py). Flat, each request walks the routes once, as before 0.137. What
    `include_router` would add (its prefix, tags, dependencies, the app's responses) the router
    must carry itself, from its own arguments."""
    app.router.routes.extend(router.routes)


def include_event_api(
    app: FastAPI,
    keys: EventKeys,
    limits: EventApiLimits,
    authorize_read: Callable[..., Any],
    catalog: EventCatalog,
) -> None:
    """The event routes, with the catalog's events declared as their request body in the
    OpenAPI document (the routes read and validate the body themselves, all-or-nothing), and the
    app's own documented responses (`FastAPI(responses=...)`) on each."""
    add_routes(
        app,
        event_routes(keys, limits, authorize_read, documented=True, responses=app.router.responses),
    )
    build = app.openapi

    def openapi() -> dict[str, Any]:
        # Built when first asked for, as FastAPI builds the rest: the events' JSON schemas cost
        # more than all the app's routes together, and most apps never serve the document.
        if app.openapi_schema is None:
            schemas = build().setdefault("components", {}).setdefault("schemas", {})
            for name, definition in event_schemas(catalog, limits).items():
                # A model the API also uses elsewhere (OrderItem) is the same schema.
                if schemas.setdefault(name, definition) != definition:
                    raise ValueError(f"two different OpenAPI schemas named {name}")
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def event_schemas(catalog: EventCatalog, limits: EventApiLimits) -> dict[str, Any]:
    """OpenAPI components: each public event of the catalog, and `SentEvents` (one or a list)."""
    models = tuple(catalog.models[name] for name in catalog.public_names)
    template = "#/components/schemas/{model}"
    union: TypeAdapter[Any] = TypeAdapter(Union[models])  # type: ignore[arg-type]  # noqa: UP007
    schema = union.json_schema(by_alias=True, ref_template=template)
    components: dict[str, Any] = schema.pop("$defs", {})
    for model in models:
        # Required in a request, whatever its default in the model.
        variant = components[model.__name__]
        variant["required"] = sorted({"name", *variant.get("required", ())})
    one = {"anyOf": schema["anyOf"]}
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": limits.max_events_per_request}
    components[EVENTS_SCHEMA] = {
        "anyOf": [one, many],
        "description": f"one event or a list; at most {limits.max_event_bytes} bytes per event",
    }
    return components


def _within_event_size(raw: Any, max_bytes: int) -> None:
    items = raw if isinstance(raw, list) else [raw]
    for index, item in enumerate(items):
        size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())
        if size > max_bytes:
            where = "event" if items is not raw else f"event[{index}]"
            raise HTTPException(413, f"{where} is {size} bytes: at most {max_bytes} per event")


def _with_seeded_ids(events: list[Event], seed: str | None) -> list[Event]:
    if not seed:
        return events
    try:
        ids = seeded_ids(seed, len(events))
    except ValueError as err:
        raise HTTPException(400, str(err)) from None
    return [e if e.id else e.model_copy(update={"id": i}) for e, i in zip(events, ids, strict=True)]


async def _with_status(client: Client, route: EventRoute) -> RunRecord:
    run = RunRecord(
        function_id=route.function_id, workflow_id=route.workflow_id, action=route.action
    )
    if route.action == "no-run":
        return run
    try:
        description = await client.get_workflow_handle(route.workflow_id).describe()
    except Exception:  # Temporal unreachable (RPCError), or a lazy client's connection failed
        run.status = "UNKNOWN"
        return run
    status = description.status
    run.status = status.name if status else None
    if status == WorkflowExecutionStatus.CANCELED:
        run.cancelled_by = await _cancel_reason(client, route.workflow_id)
    return run


async def _cancel_reason(client: Client, workflow_id: str) -> str | None:
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_cancel_requested_event_attributes"):
            cause: str = event.workflow_execution_cancel_requested_event_attributes.cause
            return cause
    return None
