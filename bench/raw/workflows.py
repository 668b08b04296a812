"""The signup fan-out as plain Temporal workflows: the project's five functions triggered by a
signup (directly or through the trial), with the same workflow type names, workflow ids, step ids
(summaries), activities, arguments, timeouts and retry counts, and nothing else."""

import html
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.access import AccessActivities, Activation, Downgrade, UserContact, UserRef
    from activities.accounts import (
        AccountActivities,
        NewUser,
        NewWorkspace,
        UserRecord,
        WorkspaceRecord,
    )
    from activities.analytics import AnalyticsActivities, TrackInput
    from activities.crm import CrmActivities, CrmContact, CrmPushRequest, CrmReceipt
    from activities.mail import EmailActivities, EmailMessage, EmailReceipt, WelcomeTemplate
    from activities.verification import VerificationActivities, VerificationEmail
    from bench.raw.inputs import SignupInput, TrialInput
    from bench.raw.steps import step
    from bench.raw.trial import TrialStarter

TRIAL_LENGTH = timedelta(days=14)
VERIFICATION_WINDOW = timedelta(hours=24)
VERIFIED_SIGNAL = "email-verified"


def retries(count: int, first: float = 15, longest: timedelta = timedelta(hours=4)) -> RetryPolicy:
    """`count` retries with the project's backoff (Inngest's: from 15 s, doubling, up to 4 h)."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=first),
        maximum_interval=longest,
        maximum_attempts=count + 1,
    )


def key(step_id: str) -> str:
    """A step's idempotency key: the same on every attempt (workflow id + step id)."""
    return f"{workflow.info().workflow_id}/{step_id}"


def trial_workflow_id(user_id: str) -> str:
    return f"manage-trial-workflow-{user_id}"


class ProvisionResult(BaseModel):
    user: UserRecord
    workspace: WorkspaceRecord
    status: str


@workflow.defn(name="provision-account")
class ProvisionAccount:
    @workflow.run
    async def run(self, signup: SignupInput) -> ProvisionResult:
        policy, split = retries(3), signup.split
        trial_ends_at = workflow.now() + TRIAL_LENGTH
        new = NewUser(
            user_id=signup.user_id,
            email=signup.email,
            name=signup.name,
            plan=signup.plan,
            trial_ends_at=trial_ends_at,
        )
        user = await step(
            "create-user-record",
            AccountActivities.create_user_record,
            new,
            split=split,
            retry_policy=policy,
        )
        workspace = await step(
            "create-workspace",
            AccountActivities.create_workspace,
            NewWorkspace(user_id=user.id, owner_name=user.name),
            split=split,
            retry_policy=policy,
        )
        await step(
            "seed-defaults",
            AccountActivities.seed_defaults,
            workspace,
            split=split,
            retry_policy=policy,
        )
        trial = TrialInput(user_id=user.id, trial_end_date=trial_ends_at, split=split)
        if signup.trial == "child":
            # Outlives this run by 14 days: abandoned, not terminated, when this run closes.
            await workflow.start_child_workflow(
                ManageTrial.run,
                trial,
                id=trial_workflow_id(user.id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary="start-trial",
            )
        else:
            await step(
                "start-trial", TrialStarter.start_trial, trial, split=split, retry_policy=policy
            )
        return ProvisionResult(user=user, workspace=workspace, status="provisioned")


@workflow.defn(name="send-welcome-email")
class SendWelcomeEmail:
    @workflow.run
    async def run(self, signup: SignupInput) -> EmailReceipt:
        policy, split = retries(5), signup.split
        email_html = await step(
            "render-template",
            EmailActivities.render_welcome,
            WelcomeTemplate(name=signup.name, plan=signup.plan),
            split=split,
            retry_policy=policy,
        )
        message = EmailMessage(
            to=signup.email,
            subject=f"Welcome to SaaS App, {signup.name}!",
            html=email_html,
            idempotency_key=key("send-email"),
        )
        sent = await step(
            "send-email", EmailActivities.send_email, message, split=split, retry_policy=policy
        )
        track = TrackInput(
            user_id=signup.user_id,
            name="welcome_email_sent",
            properties={"messageId": sent.message_id, "plan": signup.plan},
            idempotency_key=key("track-analytics"),
        )
        await step(
            "track-analytics", AnalyticsActivities.track, track, split=split, retry_policy=policy
        )
        return sent


@workflow.defn(name="onboarding-with-verification")
class OnboardingWithVerification:
    def __init__(self) -> None:
        self.verified_at: datetime | None = None

    @workflow.signal(name=VERIFIED_SIGNAL)
    def email_verified(self, verified_at: datetime) -> None:
        self.verified_at = self.verified_at or verified_at

    @workflow.run
    async def run(self, signup: SignupInput) -> bool:
        for step_id, wait_id in (
            ("send-verification-email", "wait-for-email-verification"),
            ("send-reminder", "wait-for-verification-after-reminder"),
        ):
            link = VerificationEmail(
                user_id=signup.user_id,
                email=signup.email,
                name=signup.name,
                issued_at=workflow.now(),
                idempotency_key=key(step_id),
                reminder=step_id == "send-reminder",
            )
            await step(
                step_id,
                VerificationActivities.send_verification_email,
                link,
                split=signup.split,
                retry_policy=retries(4),
            )
            try:
                await workflow.wait_condition(
                    lambda: self.verified_at is not None,
                    timeout=VERIFICATION_WINDOW,
                    timeout_summary=wait_id,
                )
            except TimeoutError:
                continue
            assert self.verified_at is not None
            await step(
                "activate-full-access",
                AccessActivities.activate_full_access,
                Activation(user_id=signup.user_id, verified_at=self.verified_at.astimezone(UTC)),
                split=signup.split,
                retry_policy=retries(4),
            )
            return True
        return False


@workflow.defn(name="sync-to-crm")
class SyncToCrm:
    @workflow.run
    async def run(self, signup: SignupInput) -> CrmReceipt:
        push = CrmPushRequest(
            provider=signup.crm_provider,
            contact=CrmContact(
                user_id=signup.user_id, email=signup.email, name=signup.name, plan=signup.plan
            ),
            idempotency_key=key("push-to-crm"),
        )
        return await step(
            "push-to-crm",
            CrmActivities.push_to_crm,
            push,
            split=signup.split,
            retry_policy=retries(10, first=1, longest=timedelta(minutes=5)),
            timeout=timedelta(minutes=2),
            heartbeat_timeout=timedelta(seconds=5),
        )


@workflow.defn(name="manage-trial-workflow")
class ManageTrial:
    @workflow.run
    async def run(self, trial: TrialInput) -> bool:
        """True when the user converted (subscribed) before the trial ended."""
        policy, split = retries(3), trial.split
        ref = UserRef(user_id=trial.user_id)
        user = await step(
            "load-user", AccessActivities.load_user_contact, ref, split=split, retry_policy=policy
        )
        for wait_id, days, step_id, subject in (
            ("wait-for-day-7", 7, "send-mid-trial-email", "You're halfway through your trial!"),
            ("wait-for-day-13", 6, "send-trial-ending-email", "Your trial ends tomorrow!"),
        ):
            await workflow.sleep(timedelta(days=days), summary=wait_id)
            await self._email(step_id, user, subject, split)
        await workflow.sleep(timedelta(days=1), summary="wait-for-trial-end")
        check = await step(
            "check-subscription",
            AccessActivities.check_subscription,
            ref,
            split=split,
            retry_policy=policy,
        )
        if check.active:
            return True
        change = await step(
            "downgrade-to-free",
            AccessActivities.downgrade_to_free,
            Downgrade(user_id=trial.user_id, idempotency_key=key("downgrade-to-free")),
            split=split,
            retry_policy=policy,
        )
        if not change.downgraded:
            return True
        await self._email("send-downgrade-email", user, "Your trial has ended", split)
        return False

    async def _email(self, step_id: str, user: UserContact, subject: str, split: bool) -> None:
        message = EmailMessage(
            to=user.email,
            subject=subject,
            html=f"<p>Hi {html.escape(user.name)},</p>",
            idempotency_key=key(step_id),
        )
        await step(
            step_id, EmailActivities.send_email, message, split=split, retry_policy=retries(3)
        )


WORKFLOWS = [ProvisionAccount, SendWelcomeEmail, OnboardingWithVerification, SyncToCrm, ManageTrial]
