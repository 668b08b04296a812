"""One place that assembles a worker: every function in the registry, the gates, and the activity
classes, each holding the client of the external system it talks to."""

from collections.abc import Callable
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.accounts import AccountActivities
from activities.analytics import AnalyticsActivities
from activities.events import EventActivities
from activities.gates import GateActivities
from activities.mail import EmailActivities
from activities.slack import SlackActivities
from db.engine import Sessions
from events.registry import Registry
from events.router import Router
from settings import Settings
from workflows.gate import GateWorkflow


def build_activities(
    client: Client, sessions: Sessions, settings: Settings, registry: Registry, task_queue: str
) -> list[Callable[..., Any]]:
    router = Router(client, sessions, task_queue, registry, settings.router_max_in_flight)
    # One HTTP connection pool per worker for every webhook-style integration.
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
    holders: list[object] = [
        AccountActivities(sessions),
        AnalyticsActivities(sessions),
        EmailActivities(
            sessions, settings.resend_api_key, settings.resend_api_url, settings.email_from
        ),
        EventActivities(router),
        GateActivities(client, task_queue, registry),
        SlackActivities(sessions, settings.slack_webhook_url, http),
    ]
    return [
        getattr(holder, name)
        for holder in holders
        for name in dir(holder)
        if hasattr(getattr(holder, name), "__temporal_activity_definition")
    ]


# Pure libraries our event models use: loaded once, not re-imported into every workflow sandbox.
PASSTHROUGH_MODULES = ("pydantic", "pydantic_core", "email_validator", "idna", "ulid")


def build_worker(
    client: Client,
    sessions: Sessions,
    settings: Settings,
    registry: Registry,
    task_queue: str | None = None,
    activities: list[Callable[..., Any]] | None = None,
    **options: Any,
) -> Worker:
    queue = task_queue or settings.task_queue
    return Worker(
        client,
        task_queue=queue,
        workflows=[*(f.workflow for f in registry.functions), GateWorkflow],
        activities=activities
        if activities is not None
        else build_activities(client, sessions, settings, registry, queue),
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
        ),
        **options,
    )
