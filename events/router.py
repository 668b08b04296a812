"""The router: what an accepted event does. It starts every function triggered by the event's
name (fan-out), delivers it to runs waiting for it, and cancels runs it makes moot.

Routing is by deterministic workflow id (function id + event id, or + correlation key value), so
it is strongly consistent and O(matching runs): no scan, no visibility query. Repeating an event
id routes nothing new: the event log remembers it, and Temporal refuses a second start.
"""

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from ulid import ULID

from db.engine import Sessions
from db.models import EventRecord, User
from db.upsert import insert_ignore
from events.envelope import Event
from events.function import FunctionSpec, lookup

if TYPE_CHECKING:
    from events.registry import Registry

EVENT_SIGNAL = "event"


class Router:
    def __init__(
        self,
        client: Client,
        sessions: Sessions,
        task_queue: str,
        registry: "Registry",
        max_in_flight: int = 200,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._task_queue = task_queue
        self._registry = registry
        self._slots = asyncio.Semaphore(max_in_flight)

    async def send(self, events: list[Event]) -> list[str]:
        """Route validated events; returns their ids once every run they start exists."""
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        stamped = [
            e.model_copy(update={"id": e.id or str(ULID()), "ts": e.ts or now_ms}) for e in events
        ]
        ids = [e.id for e in stamped]
        async with self._sessions() as session:
            known = set(
                (await session.scalars(select(EventRecord.id).where(EventRecord.id.in_(ids)))).all()
            )
        fresh: dict[str, Event] = {}
        for e in stamped:
            if e.id not in known:
                fresh.setdefault(e.id, e)
        if not fresh:
            return ids
        payloads = {event_id: e.to_json() for event_id, e in fresh.items()}
        runs = await asyncio.gather(*(self._route(e, payloads[e.id]) for e in fresh.values()))
        await self._record(list(fresh.values()), payloads, runs)
        return ids

    async def _route(self, event: Event, payload: dict[str, Any]) -> list[dict[str, str]]:
        name = event.name
        calls = [
            *(self._start(f, event, payload) for f in self._registry.triggered_by.get(name, [])),
            *(self._signal(f, payload) for f in self._registry.waiting_for.get(name, [])),
            *(self._cancel(f, payload) for f in self._registry.cancelled_by.get(name, [])),
        ]
        return list(await asyncio.gather(*calls))

    async def _start(
        self, f: FunctionSpec, event: Event, payload: dict[str, Any]
    ) -> dict[str, str]:
        workflow_id = f.workflow_id(payload)
        action = "started"
        async with self._slots:
            try:
                await self._client.start_workflow(
                    f.id,
                    event,
                    id=workflow_id,
                    task_queue=self._task_queue,
                    # A keyed function runs once per key at a time, and again later; an
                    # event-keyed one never runs twice for the same event.
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
                    if f.key
                    else WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=f"{event.name} {event.id}",
                )
            except WorkflowAlreadyStartedError:
                action = "running" if f.key else "started"
        return _run(f, workflow_id, action)

    async def _signal(self, f: FunctionSpec, payload: dict[str, Any]) -> dict[str, str]:
        handle = self._keyed_handle(f, payload)
        async with self._slots:
            found = await _not_found_is_false(handle.signal(EVENT_SIGNAL, payload))
        return _run(f, handle.id, "signalled" if found else "no-run")

    async def _cancel(self, f: FunctionSpec, payload: dict[str, Any]) -> dict[str, str]:
        handle = self._keyed_handle(f, payload)
        reason = f"cancelled by event {payload['name']} {payload['id']}"
        async with self._slots:
            found = await _not_found_is_false(handle.cancel(reason=reason))
        return _run(f, handle.id, "cancelled" if found else "no-run")

    def _keyed_handle(self, f: FunctionSpec, payload: dict[str, Any]) -> WorkflowHandle[Any, Any]:
        assert f.key is not None  # guaranteed by the declaration
        return self._client.get_workflow_handle(f.keyed_workflow_id(lookup(payload, f.key)))

    async def _record(
        self,
        events: list[Event],
        payloads: dict[str, dict[str, Any]],
        runs: list[list[dict[str, str]]],
    ) -> None:
        rows = [
            {
                "id": e.id,
                "name": e.name,
                "data": payloads[e.id]["data"],
                "user": payloads[e.id].get("user"),
                "ts": e.ts,
                "v": e.v,
                "runs": event_runs,
                "received_at": datetime.now(UTC),
            }
            for e, event_runs in zip(events, runs, strict=True)
        ]
        user_ids = {str(p["data"]["userId"]) for p in payloads.values() if _has_user_id(p)}
        async with self._sessions() as session:
            await session.execute(insert_ignore(session, EventRecord), rows)
            if user_ids:
                # A user's last activity: any accepted event that carries their userId.
                await session.execute(
                    update(User)
                    .where(User.id.in_(user_ids))
                    .values(last_active_at=datetime.now(UTC))
                )
            await session.commit()


def _run(f: FunctionSpec, workflow_id: str, action: str) -> dict[str, str]:
    return {"functionId": f.id, "workflowId": workflow_id, "action": action}


def _has_user_id(payload: dict[str, Any]) -> bool:
    data = payload.get("data")
    return isinstance(data, dict) and bool(data.get("userId"))


async def _not_found_is_false(call: Any) -> bool:
    try:
        await call
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
