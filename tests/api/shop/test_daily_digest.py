"""send-daily-digest on the dev server: the worker's start-up makes its 09:00 UTC Schedule, and a
triggered run emails the last day's order figures to every admin."""

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleOverlapPolicy,
)
from temporalio.service import RPCError

from activities.commerce_emails import money
from activities.digest import DigestActivities, StatsPeriod
from activities.mail import EmailActivities
from db.models import Refund
from inngest_temporal.schedules import ensure_schedules
from tests.api.conftest import Api
from tests.shop import add_order, add_product, add_user, emails_to
from tests.support import eventually

# Schedules are the server's, not a task queue's (tests/fixtures.py).
pytestmark = pytest.mark.usefixtures("server_schedules")
SCHEDULE_ID = "cron-send-daily-digest"


async def test_the_schedule_exists_and_a_triggered_run_emails_every_admin(api: Api) -> None:
    admins = [await add_user(api.sessions, role="admin") for _ in range(2)]
    member = await add_user(api.sessions)
    digest = DigestActivities(
        api.sessions, EmailActivities(api.sessions, None, "", "x@example.com")
    )
    before = await digest.fetch_order_stats(StatsPeriod(until=datetime.now(UTC)))
    product_id = await add_product(api.sessions, 10, price_cents=2_469)
    # Placed a minute ago: the run counts up to its scheduled time, which is whole seconds.
    placed = datetime.now(UTC) - timedelta(minutes=1)
    await add_order(api.sessions, member.id, [(product_id, 5, 2_469)], "fulfilled", placed)
    await add_order(api.sessions, member.id, [(product_id, 3, 2_469)], "cancelled", placed)

    assert SCHEDULE_ID in await ensure_schedules(
        api.client, api.app.state.services.registry, api.settings.task_queue, "UTC"
    )
    schedule = api.client.get_schedule_handle(SCHEDULE_ID)
    described = await schedule.describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == ("send-daily-digest", api.settings.task_queue)
    next_run = described.info.next_action_times[0].astimezone(UTC)
    assert (next_run.hour, next_run.minute) == (9, 0)
    runs_before = len(described.info.recent_actions)

    await schedule.trigger()

    async def triggered_run() -> str | None:
        recent = (await schedule.describe()).info.recent_actions
        if len(recent) == runs_before:
            return None
        started = recent[-1].action
        assert isinstance(started, ScheduleActionExecutionStartWorkflow)
        return started.workflow_id

    workflow_id = await eventually(triggered_run)
    result = await api.client.get_workflow_handle(workflow_id).result()
    assert {a.email for a in admins} <= set(result["recipients"])
    assert member.email not in result["recipients"]
    count, revenue = before.order_count + 1, money(before.revenue_cents + 12_345)
    for admin in admins:
        [email] = await emails_to(api.sessions, admin.email)
        assert email.subject.startswith(f"Daily digest: {count} order")
        assert f"Orders: <strong>{count}</strong>" in email.body
        assert f"Revenue: <strong>{revenue}</strong>" in email.body
    assert await emails_to(api.sessions, member.email) == []


async def test_a_catch_up_run_reports_its_own_day_net_of_refunds(api: Api) -> None:
    """A run the Schedule starts late (here a backfill of 3 February 2001, 09:00 UTC) counts the
    24 hours before its scheduled time, not before now: the orders that brought money in, less
    the refunds made that day; cancelled and failed orders are left out."""
    day = datetime(2001, 2, 3, 9, tzinfo=UTC)
    customer = await add_user(api.sessions)
    product_id = await add_product(api.sessions, 100, price_cents=1)

    async def order(cents: int, at: datetime, status: str = "fulfilled") -> str:
        created = await add_order(
            api.sessions, customer.id, [(product_id, cents, 1)], status, created_at=at
        )
        return created.data.order_id

    refunded = await order(10_000, day - timedelta(hours=20), "partially_refunded")
    await order(4_000, day - timedelta(hours=2), "shipped")
    await order(5_000, day - timedelta(hours=5), "cancelled")
    await order(7_000, day - timedelta(hours=6), "failed")
    await order(9_999, day + timedelta(hours=1))  # the next day's
    async with api.sessions() as session:
        session.add(
            Refund(
                order_id=refunded,
                amount_cents=2_500,
                reason="Arrived broken",
                status="completed",
                completed_at=day - timedelta(hours=3),
            )
        )
        await session.commit()

    await ensure_schedules(
        api.client, api.app.state.services.registry, api.settings.task_queue, "UTC"
    )
    await api.client.get_schedule_handle(SCHEDULE_ID).backfill(
        ScheduleBackfill(
            start_at=day - timedelta(seconds=1),
            end_at=day + timedelta(seconds=1),
            overlap=ScheduleOverlapPolicy.ALLOW_ALL,
        )
    )
    handle = api.client.get_workflow_handle(f"send-daily-digest-{day:%Y-%m-%dT%H:%M:%SZ}")

    async def started() -> bool:
        try:
            await handle.describe()
        except RPCError:
            return False
        return True

    await eventually(started)
    report = await handle.result()

    stats = report["stats"]
    assert (stats["since"], stats["until"]) == ("2001-02-02T09:00:00Z", "2001-02-03T09:00:00Z")
    assert (stats["orderCount"], stats["grossCents"], stats["refundedCents"]) == (2, 14_000, 2_500)
    assert stats["revenueCents"] == 11_500
