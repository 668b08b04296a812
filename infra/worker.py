"""One place that assembles a worker: every function in the registry, the gates, and the activity
classes, each holding the client of the external system it talks to."""

from collections.abc import Callable
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.access import AccessActivities
from activities.accounts import AccountActivities
from activities.analytics import AnalyticsActivities
from activities.churn import ChurnActivities
from activities.crm import CrmActivities
from activities.digest import DigestActivities
from activities.events import EventActivities
from activities.fulfillment import FulfillmentActivities
from activities.gates import GateActivities
from activities.inventory import InventoryActivities
from activities.loyalty import LoyaltyActivities
from activities.mail import EmailActivities
from activities.onboarding import OnboardingActivities
from activities.orders import OrderActivities
from activities.payments import PaymentActivities
from activities.refunds import RefundActivities
from activities.slack import SlackActivities
from activities.verification import VerificationActivities
from db.engine import Sessions
from events.registry import Registry
from events.router import Router
from infra.stripe_client import make_stripe_client
from settings import Settings
from workflows.gate import GateWorkflow


def build_activities(
    client: Client, sessions: Sessions, settings: Settings, registry: Registry, task_queue: str
) -> list[Callable[..., Any]]:
    router = Router(client, sessions, task_queue, registry, settings.router_max_in_flight)
    # One HTTP connection pool per worker for every webhook-style integration.
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
    email = EmailActivities(
        sessions, settings.resend_api_key, settings.resend_api_url, settings.email_from
    )
    slack = SlackActivities(sessions, settings.slack_webhook_url, http)
    holders: list[object] = [
        AccountActivities(sessions),
        AnalyticsActivities(sessions),
        ChurnActivities(sessions),
        CrmActivities(sessions, settings.crm_webhook_urls, http),
        email,
        EventActivities(router),
        GateActivities(client, task_queue, registry),
        slack,
        # Our database, accounts and billing side; the verification link goes out by email.
        AccessActivities(sessions),
        VerificationActivities(email, settings.secret_key, settings.public_base_url),
        # The shop: catalogue stock, orders, fulfilment, loyalty, refunds, the daily digest.
        InventoryActivities(sessions),
        OrderActivities(sessions, email),
        FulfillmentActivities(
            sessions, http, settings.fulfillment_url, settings.fulfillment_local_seconds
        ),
        LoyaltyActivities(sessions),
        OnboardingActivities(sessions, email),
        PaymentActivities(sessions, make_stripe_client(settings)),
        RefundActivities(sessions, email, slack, settings.public_base_url),
        DigestActivities(sessions, email),
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
        **{"max_cached_workflows": settings.worker_max_cached_workflows, **options},
    )
