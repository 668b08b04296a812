"""The daily digest: order figures for a period, straight from the orders and refunds tables,
emailed to every admin user.

Revenue is net of refunds: the totals of the period's orders that brought money in (cancelled
and failed orders did not) minus the refunds completed in the period (whichever day their order
was placed, so every refund is counted once, on the day the money went back)."""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from temporalio import activity

from activities import commerce_emails
from activities.mail import EmailActivities
from db.models import Order, Refund, User
from inngest_temporal import CamelModel, Sessions, local_activity

# Orders that brought no money in. (The seed excludes cancelled ones; our failed orders, out of
# stock or not fulfilled, brought none either.)
NOT_COUNTED = ("cancelled", "failed")
NO_ADMINS = "no admin users: nobody to send the digest to"


class StatsPeriod(CamelModel):
    # The run's scheduled time (or its clock), so every attempt of the step counts the same
    # period, and a catch-up run counts its own day.
    until: datetime
    length: timedelta = timedelta(days=1)


class OrderStats(CamelModel):
    since: datetime
    until: datetime
    order_count: int
    # Net of refunds; `gross_cents` and `refunded_cents` make it up.
    revenue_cents: int
    gross_cents: int = 0
    refunded_cents: int = 0


class DigestDelivery(CamelModel):
    stats: OrderStats
    idempotency_key: str


class DigestRecipients(CamelModel):
    recipients: list[str]
    # Why nobody got it (no admin users), rather than reporting success to nobody.
    skipped_because: str | None = None


class DigestActivities:
    def __init__(self, sessions: Sessions, email: EmailActivities) -> None:
        self._sessions = sessions
        self._email = email

    @local_activity
    @activity.defn
    async def fetch_order_stats(self, period: StatsPeriod) -> OrderStats:
        since = period.until - period.length
        orders = select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)).where(
            Order.created_at >= since,
            Order.created_at < period.until,
            Order.status.not_in(NOT_COUNTED),
        )
        refunds = select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.status == "completed",
            Refund.completed_at >= since,
            Refund.completed_at < period.until,
        )
        async with self._sessions() as session:
            count, gross = (await session.execute(orders)).tuples().one()
            refunded = int(await session.scalar(refunds) or 0)
        return OrderStats(
            since=since,
            until=period.until,
            order_count=count,
            revenue_cents=int(gross) - refunded,
            gross_cents=int(gross),
            refunded_cents=refunded,
        )

    @activity.defn
    async def send_digest_emails(self, delivery: DigestDelivery) -> DigestRecipients:
        async with self._sessions() as session:
            admins = (
                await session.execute(
                    select(User.id, User.email).where(User.role == "admin").order_by(User.id)
                )
            ).tuples()
            recipients = list(admins)
        if not recipients:
            activity.logger.warning("daily digest not sent: %s", NO_ADMINS)
            return DigestRecipients(recipients=[], skipped_because=NO_ADMINS)
        stats = delivery.stats
        rendered = commerce_emails.daily_digest(
            stats.since, stats.until, stats.order_count, stats.revenue_cents, stats.refunded_cents
        )
        for admin_id, address in recipients:
            # One key per admin: a retry after a partial send skips those already sent.
            await self._email.send_email(
                rendered.message(address, f"{delivery.idempotency_key}/{admin_id}")
            )
        return DigestRecipients(recipients=[address for _, address in recipients])
