"""send-daily-digest on the dev server: the worker's start-up makes its 09:00 UTC Schedule, and a
triggered run emails the last day's order figures to every admin."""

from datetime import UTC, datetime

from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleActionStartWorkflow

from activities.commerce_emails import money
from activities.digest import DigestActivities, StatsPeriod
from activities.mail import EmailActivities
from inngest_temporal.schedules import ensure_schedules
from tests.api.accounts import eventually
from tests.api.conftest import Api
from tests.shop import add_order, add_product, add_user, emails_to

SCHEDULE_ID = "cron-send-daily-digest"


async def test_the_schedule_exists_and_a_triggered_run_emails_every_admin(api: Api) -> None:
    admins = [await add_user(api.sessions, role="admin") for _ in range(2)]
    member = await add_user(api.sessions)
    digest = DigestActivities(
        api.sessions, EmailActivities(api.sessions, None, "", "x@example.com")
    )
    before = await digest.fetch_order_stats(StatsPeriod(until=datetime.now(UTC)))
    product_id = await add_product(api.sessions, 10, price_cents=2_469)
    await add_order(api.sessions, member.id, [(product_id, 5, 2_469)], "fulfilled")
    await add_order(api.sessions, member.id, [(product_id, 3, 2_469)], "cancelled")

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
