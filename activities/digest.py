"""The daily digest: order figures for a period, straight from the orders table, emailed to every
admin user."""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from temporalio import activity

from activities import commerce_emails
from activities.mail import EmailActivities
from db.models import Order, User
from inngest_temporal import CamelModel, Sessions, local_activity

# Orders that brought no money in. (The seed excludes cancelled ones; our failed orders, out of
# stock or not fulfilled, brought none either.)
NOT_COUNTED = ("cancelled", "failed")


class StatsPeriod(CamelModel):
    # From the workflow's clock, so every attempt of the step counts the same period.
    until: datetime
    length: timedelta = timedelta(days=1)


class OrderStats(CamelModel):
    since: datetime
    until: datetime
    order_count: int
    revenue_cents: int


class DigestDelivery(CamelModel):
    stats: OrderStats
    idempotency_key: str


class DigestRecipients(CamelModel):
    recipients: list[str]


class DigestActivities:
    def __init__(self, sessions: Sessions, email: EmailActivities) -> None:
        self._sessions = sessions
        self._email = email

    @local_activity
    @activity.defn
    async def fetch_order_stats(self, period: StatsPeriod) -> OrderStats:
        since = period.until - period.length
        query = select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)).where(
            Order.created_at >= since,
            Order.created_at < period.until,
            Order.status.not_in(NOT_COUNTED),
        )
        async with self._sessions() as session:
            count, revenue = (await session.execute(query)).tuples().one()
        return OrderStats(
            since=since, until=period.until, order_count=count, revenue_cents=int(revenue)
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
        stats = delivery.stats
        rendered = commerce_emails.daily_digest(
            stats.since, stats.until, stats.order_count, stats.revenue_cents
        )
        for admin_id, address in recipients:
            # One key per admin: a retry after a partial send skips those already sent.
            await self._email.send_email(
                rendered.message(address, f"{delivery.idempotency_key}/{admin_id}")
            )
        return DigestRecipients(recipients=[address for _, address in recipients])
