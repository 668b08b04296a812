"""Every function the service runs. Adding a pipeline: its own module, and one line here."""

import dataclasses
from datetime import timedelta

from events.function import Concurrency, Cron, FunctionSpec, Throttle
from settings import FunctionOverride, settings
from workflows.daily_churn_report import DailyChurnReportWorkflow
from workflows.handle_order_shipped import HandleOrderShippedWorkflow
from workflows.manage_trial import ManageTrialWorkflow
from workflows.onboarding_drip_sequence import OnboardingDripSequenceWorkflow
from workflows.onboarding_with_verification import OnboardingWithVerificationWorkflow
from workflows.process_order import ProcessOrderWorkflow
from workflows.process_refund import ProcessRefundWorkflow
from workflows.provision_account import ProvisionAccountWorkflow
from workflows.send_daily_digest import SendDailyDigestWorkflow
from workflows.send_welcome_email import SendWelcomeEmailWorkflow
from workflows.sync_to_crm import SyncToCrmWorkflow
from workflows.update_loyalty_points import UpdateLoyaltyPointsWorkflow

FUNCTIONS: tuple[FunctionSpec, ...] = (
    ProvisionAccountWorkflow.spec,
    SendWelcomeEmailWorkflow.spec,
    ManageTrialWorkflow.spec,
    OnboardingWithVerificationWorkflow.spec,
    SyncToCrmWorkflow.spec,
    DailyChurnReportWorkflow.spec,
    ProcessOrderWorkflow.spec,
    UpdateLoyaltyPointsWorkflow.spec,
    HandleOrderShippedWorkflow.spec,
    OnboardingDripSequenceWorkflow.spec,
    ProcessRefundWorkflow.spec,
    SendDailyDigestWorkflow.spec,
)


class Registry:
    """Indexes built once: which functions start on, wait for, or are cancelled by a name."""

    def __init__(
        self,
        functions: tuple[FunctionSpec, ...] = FUNCTIONS,
        overrides: dict[str, FunctionOverride] | None = None,
    ) -> None:
        self.functions = functions
        self.overrides = overrides or {}
        self.by_id = {f.id: f for f in functions}
        if len(self.by_id) != len(functions):
            raise ValueError("function ids must be unique")
        self.triggered_by: dict[str, list[FunctionSpec]] = {}
        self.waiting_for: dict[str, list[FunctionSpec]] = {}
        self.cancelled_by: dict[str, list[FunctionSpec]] = {}
        for f in functions:
            if f.trigger_name is not None:
                self.triggered_by.setdefault(f.trigger_name, []).append(f)
            for m in f.wait_for:
                self.waiting_for.setdefault(m.event.event_name, []).append(f)
            for m in f.cancel_on:
                self.cancelled_by.setdefault(m.event.event_name, []).append(f)

    def effective(self, function_id: str) -> FunctionSpec:
        """The declaration with any operator override of its throttle or concurrency applied."""
        spec = self.by_id[function_id]
        override = self.overrides.get(function_id)
        if override is None:
            return spec
        throttle, concurrency = spec.throttle, spec.concurrency
        if override.throttle is not None and throttle is not None:
            period = override.throttle.period_seconds
            throttle = Throttle(
                limit=override.throttle.limit,
                period=timedelta(seconds=period) if period else throttle.period,
                key=throttle.key,
            )
        if override.concurrency is not None and concurrency is not None:
            concurrency = Concurrency(limit=override.concurrency.limit, key=concurrency.key)
        return dataclasses.replace(spec, throttle=throttle, concurrency=concurrency)

    @property
    def scheduled(self) -> list[FunctionSpec]:
        return [f for f in self.functions if isinstance(f.trigger, Cron)]


registry = Registry(FUNCTIONS, settings.function_overrides)
