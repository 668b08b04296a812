"""fetch-stats counts exactly the orders of its period that brought money in."""

from datetime import UTC, datetime, timedelta

from activities.digest import DigestActivities, StatsPeriod
from activities.mail import EmailActivities
from db.models import Refund
from inngest_temporal import Sessions
from tests.shop import add_order, add_product, add_user

# A period no other test writes orders into.
UNTIL = datetime(2099, 1, 2, tzinfo=UTC)


async def test_counts_the_last_day_without_cancelled_or_failed_orders(sessions: Sessions) -> None:
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 100, price_cents=1)

    async def order(cents: int, at: datetime, status: str = "fulfilled") -> None:
        await add_order(sessions, customer.id, [(product_id, cents, 1)], status, created_at=at)

    await order(5_000, UNTIL - timedelta(hours=14))
    await order(2_500, UNTIL - timedelta(minutes=1), status="pending")
    await order(9_999, UNTIL - timedelta(hours=12), status="cancelled")
    await order(7_777, UNTIL - timedelta(hours=12), status="failed")
    await order(1_234, UNTIL - timedelta(days=1, minutes=1))  # the day before
    await order(4_321, UNTIL)  # the next period

    digest = DigestActivities(sessions, EmailActivities(sessions, None, "", "app@example.com"))
    stats = await digest.fetch_order_stats(StatsPeriod(until=UNTIL))

    assert (stats.order_count, stats.revenue_cents) == (2, 7_500)
    assert (stats.since, stats.until) == (UNTIL - timedelta(days=1), UNTIL)


async def test_revenue_is_net_of_the_refunds_made_in_the_period(sessions: Sessions) -> None:
    until = datetime(2098, 6, 2, tzinfo=UTC)
    customer = await add_user(sessions)
    product_id = await add_product(sessions, 100, price_cents=1)
    today = await add_order(
        sessions,
        customer.id,
        [(product_id, 8_000, 1)],
        "partially_refunded",
        created_at=until - timedelta(hours=10),
    )
    last_week = await add_order(
        sessions,
        customer.id,
        [(product_id, 3_000, 1)],
        "refunded",
        created_at=until - timedelta(days=7),
    )
    pending = await add_order(
        sessions,
        customer.id,
        [(product_id, 500, 1)],
        "fulfilled",
        created_at=until - timedelta(days=7),
    )
    async with sessions() as session:
        session.add_all(
            [
                # Made today, for today's order and for last week's: both are today's refunds.
                refund(today.data.order_id, 1_000, "completed", until - timedelta(hours=2)),
                refund(last_week.data.order_id, 3_000, "completed", until - timedelta(hours=1)),
                # Not money back (yet): awaiting a decision, or refused.
                refund(pending.data.order_id, 500, "failed", None),
            ]
        )
        await session.commit()

    digest = DigestActivities(sessions, EmailActivities(sessions, None, "", "a@example.com"))
    stats = await digest.fetch_order_stats(StatsPeriod(until=until))

    assert (stats.order_count, stats.gross_cents, stats.refunded_cents) == (1, 8_000, 4_000)
    assert stats.revenue_cents == 4_000


def refund(order_id: str, cents: int, status: str, completed_at: datetime | None) -> Refund:
    return Refund(
        order_id=order_id,
        amount_cents=cents,
        reason="Arrived broken",
        status=status,
        completed_at=completed_at,
    )
