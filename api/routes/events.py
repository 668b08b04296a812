"""The event API: ours (`POST /api/events`) and Inngest's (`POST /e/{event_key}`), plus the log."""

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from api.body import read_json
from api.deps import ClientDep, RouterDep, SessionsDep, SettingsDep
from api.errors import not_found, too_large, unauthorized, unavailable, unprocessable
from db.models import EventRecord
from events.catalog import InvalidEvent, parse_events
from events.router import Router
from settings import Settings

router = APIRouter(tags=["events"])


@router.post("/api/events")
async def send_events(request: Request, events: RouterDep, settings: SettingsDep) -> dict[str, Any]:
    """Send one event or a list (all-or-nothing). Answers once every run it starts exists."""
    if settings.event_key:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, settings.event_key):
            raise unauthorized("missing or wrong event key (Authorization: Bearer <EVENT_KEY>)")
    return await _accept(request, events, settings)


@router.post("/e/{event_key}")
async def send_events_inngest(
    event_key: str, request: Request, events: RouterDep, settings: SettingsDep
) -> dict[str, Any]:
    """Inngest's event API, so an application using an Inngest SDK can send here unchanged."""
    if settings.event_key and not hmac.compare_digest(event_key, settings.event_key):
        raise unauthorized("wrong event key")
    return await _accept(request, events, settings)


async def _accept(request: Request, events: Router, settings: Settings) -> dict[str, Any]:
    raw = await read_json(request, settings.max_body_bytes)
    if isinstance(raw, list) and len(raw) > settings.max_events_per_request:
        raise too_large(f"at most {settings.max_events_per_request} events per request")
    try:
        parsed = parse_events(raw)
    except InvalidEvent as err:
        raise unprocessable(str(err)) from None
    try:
        ids = await events.send(parsed)
    except RPCError as err:
        raise unavailable(f"Temporal is unavailable, nothing was recorded: {err.message}") from err
    return {"ids": ids, "status": 200}


@router.get("/api/events/{event_id}")
async def get_event(event_id: str, sessions: SessionsDep, client: ClientDep) -> dict[str, Any]:
    """The event as accepted and what it did: the runs it started, signalled or cancelled."""
    async with sessions() as session:
        record = await session.scalar(select(EventRecord).where(EventRecord.id == event_id))
    if record is None:
        raise not_found(f"no event with id '{event_id}'")
    runs = await asyncio.gather(*(_with_status(client, run) for run in record.runs))
    return {
        "id": record.id,
        "name": record.name,
        "data": record.data,
        "user": record.user,
        "ts": record.ts,
        "v": record.v,
        "receivedAt": record.received_at.isoformat(),
        "runs": runs,
    }


async def _with_status(client: Client, run: dict[str, Any]) -> dict[str, Any]:
    if run["action"] == "no-run":
        return {**run, "status": None}
    handle = client.get_workflow_handle(run["workflowId"])
    try:
        description = await handle.describe()
    except RPCError:
        return {**run, "status": "UNKNOWN"}
    status = description.status
    result = {**run, "status": status.name if status else None}
    if status == WorkflowExecutionStatus.CANCELED:
        result["cancelledBy"] = await _cancel_reason(client, run["workflowId"])
    return result


async def _cancel_reason(client: Client, workflow_id: str) -> str | None:
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_cancel_requested_event_attributes"):
            cause: str = event.workflow_execution_cancel_requested_event_attributes.cause
            return cause
    return None
