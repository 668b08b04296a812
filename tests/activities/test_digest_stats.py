"""fetch-stats counts exactly the orders of its period that brought money in."""

from datetime import UTC, datetime, timedelta

from activities.digest import DigestActivities, StatsPeriod
from activities.mail import EmailActivities
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
