"""The application, composed: its functions (listed once), the events it sends that no function
listens to yet, and its activities with their clients. worker.py and api/main.py build from here.

Adding a pipeline that uses existing events and activities: its module in workflows/, and one
line in FUNCTIONS."""

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client

from activities.access import AccessActivities
from activities.accounts import AccountActivities
from activities.analytics import AnalyticsActivities
from activities.churn import ChurnActivities
from activities.crm import CrmActivities
from activities.digest import DigestActivities
from activities.fulfillment import FulfillmentActivities
from activities.inventory import InventoryActivities
from activities.loyalty import LoyaltyActivities
from activities.mail import EmailActivities
from activities.onboarding import OnboardingActivities
from activities.orders import OrderActivities
from activities.payments import PaymentActivities
from activities.refunds import RefundActivities
from activities.sign_in import SignInActivities
from activities.slack import SlackActivities
from activities.trial import TrialActivities
from activities.verification import VerificationActivities
from db.last_active import touch_last_active
from events.billing import PaymentFailed, SubscriptionDeleted
from events.users import SignedIn
from infra.stripe_client import make_stripe_client
from inngest_temporal import Dispatcher, Registry, Router, Sessions, activity_methods
from settings import Settings
from workflows.daily_churn_report import DailyChurnReportWorkflow
from workflows.handle_order_shipped import HandleOrderShippedWorkflow
from workflows.manage_trial import ManageTrialWorkflow
from workflows.mark_onboarding_completed import MarkOnboardingCompletedWorkflow
from workflows.onboarding_drip_sequence import OnboardingDripSequenceWorkflow
from workflows.onboarding_with_verification import OnboardingWithVerificationWorkflow
from workflows.process_order import ProcessOrderWorkflow
from workflows.process_refund import ProcessRefundWorkflow
from workflows.provision_account import ProvisionAccountWorkflow
from workflows.send_daily_digest import SendDailyDigestWorkflow
from workflows.send_sign_in_link import SendSignInLinkWorkflow
from workflows.send_welcome_email import SendWelcomeEmailWorkflow
from workflows.sync_to_crm import SyncToCrmWorkflow
from workflows.update_loyalty_points import UpdateLoyaltyPointsWorkflow

FUNCTIONS = (
    ProvisionAccountWorkflow,
    SendWelcomeEmailWorkflow,
    ManageTrialWorkflow,
    OnboardingWithVerificationWorkflow,
    SyncToCrmWorkflow,
    DailyChurnReportWorkflow,
    ProcessOrderWorkflow,
    UpdateLoyaltyPointsWorkflow,
    HandleOrderShippedWorkflow,
    OnboardingDripSequenceWorkflow,
    ProcessRefundWorkflow,
    SendDailyDigestWorkflow,
    SendSignInLinkWorkflow,
    MarkOnboardingCompletedWorkflow,
)

# Sent for other applications (and future functions) to listen to: the Stripe webhook's, and
# sign-ins.
EVENTS = (SubscriptionDeleted, PaymentFailed, SignedIn)


def build_registry(settings: Settings) -> Registry:
    return Registry(FUNCTIONS, EVENTS, settings.function_overrides)


def build_dispatcher(
    client: Client, sessions: Sessions, settings: Settings, registry: Registry
) -> Dispatcher:
    router = Router(client, settings.task_queue, registry, settings.router_max_in_flight)
    return Dispatcher(
        sessions,
        router,
        on_stored=touch_last_active,
        route_timeout=settings.route_timeout_seconds,
        record_interval=settings.routing_record_seconds,
    )


# The CA bundle, read once per process (tens of milliseconds each time; a test suite builds a
# worker per test).
_tls = functools.cache(httpx.create_ssl_context)


def build_activities(sessions: Sessions, settings: Settings) -> list[Callable[..., Any]]:
    """Every activity of the application, each class holding the client of its system."""
    # One HTTP connection pool per worker for every webhook-style integration.
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), verify=_tls())
    email = EmailActivities(
        sessions,
        settings.resend_api_key if settings.uses_resend else None,
        settings.resend_api_url,
        settings.email_from,
    )
    slack = SlackActivities(sessions, settings.slack_webhook_url, http)
    return activity_methods(
        [
            AccountActivities(sessions),
            AnalyticsActivities(sessions),
            ChurnActivities(sessions),
            CrmActivities(sessions, settings.crm_webhook_urls, http),
            email,
            slack,
            # Our database, accounts and billing side; the verification link goes out by email.
            AccessActivities(sessions),
            TrialActivities(sessions, email),
            VerificationActivities(email, settings.signing_key, settings.public_base_url),
            SignInActivities(
                email,
                settings.signing_key,
                settings.public_base_url,
                timedelta(minutes=settings.sign_in_link_minutes),
            ),
            # The shop: stock, orders, fulfilment, loyalty, refunds, the daily digest.
            InventoryActivities(sessions),
            OrderActivities(sessions, email),
            FulfillmentActivities(
                sessions, http, settings.fulfillment_url, settings.fulfillment_local_seconds
            ),
            LoyaltyActivities(sessions),
            OnboardingActivities(sessions, email),
            PaymentActivities(
                sessions,
                make_stripe_client(settings),
                local_refunds=settings.environment != "production",
            ),
            RefundActivities(sessions, email, slack, settings.public_base_url),
            DigestActivities(sessions, email),
        ]
    )
