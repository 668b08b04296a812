"""Email through the real Resend SDK, pointed at a recording server on 127.0.0.1."""

from collections.abc import Iterator

import pytest
import resend
from sqlalchemy import select

from activities.mail import EmailActivities, EmailMessage
from db.models import OutboxMessage
from inngest_temporal import NonRetriableError, Sessions
from tests.http_recorder import HttpRecorder, Reply
from tests.support import unique


@pytest.fixture
def resend_server() -> Iterator[HttpRecorder]:
    recorder = HttpRecorder(lambda _: Reply(200, {"id": unique("re")}))
    with recorder.serving():
        yield recorder
    resend.api_key = None


def message(key: str) -> EmailMessage:
    return EmailMessage(
        to="ada@example.com", subject="Hi", html="<p>Hello</p>", idempotency_key=key
    )


async def test_sends_through_resend_with_the_idempotency_key(
    resend_server: HttpRecorder, sessions: Sessions
) -> None:
    mail = EmailActivities(sessions, "re_test_key", resend_server.url, "App <app@example.com>")
    key = unique("send-welcome-email/evt/send-email")
    receipt = await mail.send_email(message(key))

    [request] = resend_server.requests
    assert (request.method, request.path) == ("POST", "/emails")
    assert request.headers["authorization"] == "Bearer re_test_key"
    assert request.headers["idempotency-key"] == key
    assert request.json() == {
        "from": "App <app@example.com>",
        "to": ["ada@example.com"],
        "subject": "Hi",
        "html": "<p>Hello</p>",
    }
    assert receipt.transport == "resend" and receipt.status == "sent"
    async with sessions() as session:
        row = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        ).one()
    assert row.provider_id == receipt.message_id


async def test_a_retried_step_does_not_send_twice(
    resend_server: HttpRecorder, sessions: Sessions
) -> None:
    mail = EmailActivities(sessions, "re_test_key", resend_server.url, "App <app@example.com>")
    key = unique("retry")
    first = await mail.send_email(message(key))
    second = await mail.send_email(message(key))
    assert len(resend_server.requests) == 1
    assert first == second


async def test_validation_error_is_not_retried(
    resend_server: HttpRecorder, sessions: Sessions
) -> None:
    resend_server.replies.append(
        Reply(422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `to`"})
    )
    mail = EmailActivities(sessions, "re_test_key", resend_server.url, "App <app@example.com>")
    with pytest.raises(NonRetriableError, match="422"):
        await mail.send_email(message(unique("bad")))


@pytest.mark.parametrize("status", [429, 500])
async def test_rate_limits_and_server_errors_are_retried(
    resend_server: HttpRecorder, sessions: Sessions, status: int
) -> None:
    resend_server.replies.append(
        Reply(status, {"statusCode": status, "name": "application_error", "message": "busy"})
    )
    mail = EmailActivities(sessions, "re_test_key", resend_server.url, "App <app@example.com>")
    key = unique("flaky")
    with pytest.raises(Exception) as failure:
        await mail.send_email(message(key))
    assert not isinstance(failure.value, NonRetriableError)
    # The next attempt (same key) goes through, and only one message is recorded.
    await mail.send_email(message(key))
    assert [r.headers["idempotency-key"] for r in resend_server.requests] == [key, key]


async def test_without_a_key_the_email_goes_to_the_outbox(sessions: Sessions) -> None:
    mail = EmailActivities(sessions, None, "http://unused", "App <app@example.com>")
    key = unique("outbox")
    receipt = await mail.send_email(message(key))
    assert receipt.transport == "outbox" and receipt.status == "outbox"
