"""The router: what a stored event does in Temporal. It starts every function triggered by the
event's name (fan-out), delivers it to runs waiting for it, and cancels runs it makes moot.

Routing is by deterministic workflow id (function id + event id, or + correlation key value), so
it is strongly consistent and O(matching runs): no scan, no visibility query. Every call is safe
to repeat: a second start of the same event is refused by Temporal, a run ignores an event id it
already received, and a cancel of a cancelled run changes nothing."""

import asyncio
from collections.abc import Collection, Coroutine
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from inngest_temporal.function import FunctionSpec, lookup
from inngest_temporal.registry import Registry

EVENT_SIGNAL = "event"


@dataclass(frozen=True)
class Route:
    function_id: str
    workflow_id: str
    action: str  # started | running | signalled | cancelled | no-run


@dataclass(frozen=True)
class RouteFailure:
    function_id: str
    error: BaseException


class Router:
    def __init__(
        self, client: Client, task_queue: str, registry: Registry, max_in_flight: int = 200
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self.registry = registry
        self._slots = asyncio.Semaphore(max_in_flight)

    async def route(
        self,
        payload: dict[str, Any],
        skip: Collection[str] = (),
        retrying: bool = False,
    ) -> list[Route | RouteFailure]:
        """Routes to every function the event concerns but those in `skip` (already routed).
        `retrying`: an earlier attempt may have reached Temporal without being recorded."""
        return list(await asyncio.gather(*self.calls(payload, skip, retrying)))

    def calls(
        self,
        payload: dict[str, Any],
        skip: Collection[str] = (),
        retrying: bool = False,
    ) -> list[Coroutine[Any, Any, Route | RouteFailure]]:
        """What `route()` awaits, for a caller routing several events in one gather."""
        name = payload["name"]
        registry = self.registry
        return [
            *(
                self._start(f, payload, retrying)
                for f in registry.triggered_by.get(name, ())
                if f.id not in skip
            ),
            *(
                self._signal(f, payload)
                for f in registry.waiting_for.get(name, ())
                if f.id not in skip
            ),
            *(
                self._cancel(f, payload)
                for f in registry.cancelled_by.get(name, ())
                if f.id not in skip
            ),
        ]

    async def _start(
        self, f: FunctionSpec, payload: dict[str, Any], retrying: bool
    ) -> Route | RouteFailure:
        workflow_id = f.workflow_id(payload)
        summary = run_summary(f, payload)
        async with self._slots:
            try:
                if summary and retrying and await self._started_by(workflow_id, summary):
                    return Route(f.id, workflow_id, "started")
                await self._client.start_workflow(
                    f.id,
                    payload,
                    id=workflow_id,
                    task_queue=self._task_queue,
                    # A keyed function runs once per key at a time, and again later for a new
                    # event (the event log dedupes event ids); an event-keyed one never twice.
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
                    if f.key
                    else WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=summary,
                )
            except WorkflowAlreadyStartedError:
                return Route(f.id, workflow_id, "running" if f.key else "started")
            except Exception as err:  # recorded and retried by the dispatcher
                return RouteFailure(f.id, err)
        return Route(f.id, workflow_id, "started")

    async def _started_by(self, workflow_id: str, summary: str) -> bool:
        """Whether the latest run of a keyed function was started by this very event (an earlier
        attempt whose outcome was never recorded)."""
        try:
            description = await self._client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return await description.static_summary() == summary

    async def _signal(self, f: FunctionSpec, payload: dict[str, Any]) -> Route | RouteFailure:
        workflow_id = _keyed_id(f, payload)
        handle = self._client.get_workflow_handle(workflow_id)
        async with self._slots:
            return await _found(f, workflow_id, "signalled", handle.signal(EVENT_SIGNAL, payload))

    async def _cancel(self, f: FunctionSpec, payload: dict[str, Any]) -> Route | RouteFailure:
        workflow_id = _keyed_id(f, payload)
        reason = f"cancelled by event {payload['name']} {payload['id']}"
        handle = self._client.get_workflow_handle(workflow_id)
        async with self._slots:
            return await _found(f, workflow_id, "cancelled", handle.cancel(reason=reason))


def run_summary(f: FunctionSpec, payload: dict[str, Any]) -> str | None:
    """A keyed run's id names its key, not the event that started it: its summary says which
    (the Web UI's run list shows it, and a retried routing reads it back). A run of one event
    has the event's id in its own id, and no summary: one costs a start about 60 us of the
    caller's CPU (0.25 ms of a signup's four starts) and the server its storage."""
    return f"{payload['name']} {payload['id']}" if f.key else None


def _keyed_id(f: FunctionSpec, payload: dict[str, Any]) -> str:
    assert f.key is not None  # guaranteed by the declaration
    return f.keyed_workflow_id(lookup(payload, f.key))


async def _found(f: FunctionSpec, workflow_id: str, action: str, call: Any) -> Route | RouteFailure:
    try:
        await call
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return Route(f.id, workflow_id, "no-run")
        return RouteFailure(f.id, err)
    except Exception as err:
        return RouteFailure(f.id, err)
    return Route(f.id, workflow_id, action)
