"""push-to-crm's records: the CRM's id for the contact is kept when it fits the outbox."""

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.crm import CrmActivities, CrmContact, CrmPushRequest
from db.models import CrmPush
from inngest_temporal import Sessions
from tests.http_recorder import HttpRecorder, Reply
from tests.support import unique


@pytest.mark.parametrize(("length", "kept"), [(200, True), (201, False)])
async def test_the_crm_record_id_is_kept_if_it_fits_and_the_push_is_recorded_either_way(
    sessions: Sessions, length: int, kept: bool
) -> None:
    record_id = "r" * length
    crm = HttpRecorder(lambda _: Reply(201, {"id": record_id}))
    push = CrmPushRequest(
        provider="acme",
        contact=CrmContact(user_id=unique("user"), email="ada@example.com", name="Ada", plan="pro"),
        idempotency_key=unique("sync-to-crm/evt/push-to-crm"),
    )
    with crm.serving():
        async with httpx.AsyncClient() as http:
            activities = CrmActivities(sessions, {"acme": f"{crm.url}/contacts"}, http)
            receipt = await ActivityEnvironment().run(activities.push_to_crm, push)

    assert len(crm.requests) == 1
    assert (receipt.transport, receipt.crm_record_id) == ("webhook", record_id if kept else None)
    async with sessions() as session:
        row = await session.scalar(
            select(CrmPush).where(CrmPush.idempotency_key == push.idempotency_key)
        )
    assert row is not None and (row.status, row.response_status) == ("synced", 201)
