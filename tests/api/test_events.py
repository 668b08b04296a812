"""The event API: fan-out, dedupe, all-or-nothing validation, event key, Inngest SDK."""

import base64
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from api.main import create_app
from application import build_registry
from inngest_temporal.keys import seeded_ids
from inngest_temporal.store import StoredEvent
from settings import Settings
from tests.api.conftest import Api, app_with
from tests.api.live import served
from tests.support import eventually, unique


def signup_event(event_id: str | None = None, **data: Any) -> dict[str, Any]:
    user_id = unique("user")
    event: dict[str, Any] = {
        "name": "user/signup.completed",
        "data": {"userId": user_id, "email": f"{user_id}@example.com", "name": "Ev", "plan": "free"}
        | data,
    }
    if event_id:
        event["id"] = event_id
    return event


async def count_events(api: Api, ids: list[str]) -> int:
    async with api.sessions() as session:
        return int(await session.scalar(select(func.count()).where(StoredEvent.id.in_(ids))) or 0)


async def test_one_event_starts_every_listening_function(api: Api) -> None:
    response = await api.http.post("/api/events", json=signup_event())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 200 and len(body["ids"]) == 1

    record = (await api.http.get(f"/api/events/{body['ids'][0]}")).json()
    listeners = {
        f.id for f in api.app.state.services.registry.triggered_by["user/signup.completed"]
    }
    assert {r["functionId"] for r in record["runs"]} == listeners
    assert all(r["action"] == "started" for r in record["runs"])
    # "Answers once every run exists": each run can be described right away.
    for run in record["runs"]:
        await api.client.get_workflow_handle(run["workflowId"]).describe()


async def test_a_list_of_events_is_accepted_together(api: Api) -> None:
    events = [signup_event(), signup_event(), signup_event()]
    response = await api.http.post("/api/events", json=events)
    assert response.status_code == 200
    ids = response.json()["ids"]
    assert len(set(ids)) == 3
    assert await count_events(api, ids) == 3


async def test_same_event_id_twice_starts_each_function_once(api: Api) -> None:
    event = signup_event(event_id=unique("evt"))
    first = await api.http.post("/api/events", json=event)
    second = await api.http.post("/api/events", json=event)
    assert first.json()["ids"] == second.json()["ids"] == [event["id"]]

    record = (await api.http.get(f"/api/events/{event['id']}")).json()
    for run in record["runs"]:
        starts = [
            e
            async for e in api.client.get_workflow_handle(run["workflowId"]).fetch_history_events()
            if e.HasField("workflow_execution_started_event_attributes")
        ]
        assert len(starts) == 1
    assert await count_events(api, [event["id"]]) == 1


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        (
            {"name": "user/unknown.thing", "data": {}},
            422,
            "unknown event name 'user/unknown.thing'",
        ),
        ({"data": {}}, 422, "'name' is required"),
        (
            {"name": "user/signup.completed", "data": {"userId": "u1", "email": "x@example.com"}},
            422,
            "data.name: Field required",
        ),
        (
            {
                "name": "user/signup.completed",
                "data": {"userId": "u", "email": "no", "name": "N", "plan": "gold"},
            },
            422,
            "data.plan",
        ),
        ([], 422, "the event list is empty"),
        ("just a string", 422, "expected a JSON object"),
    ],
)
async def test_invalid_events_get_422_naming_the_problem(
    api: Api, payload: Any, status: int, detail: str
) -> None:
    response = await api.http.post("/api/events", json=payload)
    assert response.status_code == status
    assert detail in response.json()["detail"]


async def test_one_bad_event_in_a_list_routes_nothing(api: Api) -> None:
    good = [signup_event(event_id=unique("evt")), signup_event(event_id=unique("evt"))]
    bad = {"name": "user/signup.completed", "data": {"userId": "x"}}
    response = await api.http.post("/api/events", json=[*good, bad])
    assert response.status_code == 422
    assert "event[2]" in response.json()["detail"]
    assert await count_events(api, [e["id"] for e in good]) == 0
    for e in good:
        assert (await api.http.get(f"/api/events/{e['id']}")).status_code == 404


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.http.post(
        "/api/events",
        content=b'{"name": "user/signup.completed", ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["detail"]


async def test_body_over_the_limit_is_413_and_routes_nothing(api: Api) -> None:
    event = signup_event(event_id=unique("evt"), name="x" * 150)
    async with app_with(api, max_body_bytes=2_000) as http:
        response = await http.post("/api/events", json=[event] * 1 + [signup_event()] * 20)
    assert response.status_code == 413
    assert "byte limit" in response.json()["detail"]
    assert await count_events(api, [event["id"]]) == 0


async def test_too_many_events_is_413(api: Api) -> None:
    async with app_with(api, max_events_per_request=2) as http:
        response = await http.post("/api/events", json=[signup_event()] * 3)
    assert response.status_code == 413
    assert "at most 2 events" in response.json()["detail"]


async def test_event_key_is_required_when_configured(api: Api) -> None:
    event = signup_event(event_id=unique("evt"))
    async with app_with(api, event_key="secret-key") as http:
        missing = await http.post("/api/events", json=event)
        wrong = await http.post("/api/events", json=event, headers={"authorization": "Bearer nope"})
        wrong_path = await http.post("/e/nope", json=event)
        assert (missing.status_code, wrong.status_code, wrong_path.status_code) == (401, 401, 401)
        assert await count_events(api, [event["id"]]) == 0

        right = await http.post(
            "/api/events", json=event, headers={"authorization": "Bearer secret-key"}
        )
        assert right.status_code == 200
        right_path = await http.post("/e/secret-key", json=signup_event())
        assert right_path.status_code == 200


async def test_unknown_event_id_is_404(api: Api) -> None:
    response = await api.http.get("/api/events/does-not-exist")
    assert response.status_code == 404
    assert "does-not-exist" in response.json()["detail"]


@pytest.fixture
async def live_url(api: Api) -> AsyncIterator[str]:
    """The same app served over real HTTP, for clients that bring their own HTTP stack."""
    settings = Settings(**api.settings.model_dump() | {"event_key": "inngest-key"})
    async with served(create_app(settings, connect=lambda: _done(api.client))) as url:
        yield url


async def _done(value: Any) -> Any:
    return value


async def test_the_inngest_python_sdk_sends_here_unchanged(api: Api, live_url: str) -> None:
    import inngest  # here: only the suite process that runs this test pays its import (0.1 s)

    client = inngest.Inngest(
        app_id="existing-app",
        event_api_base_url=live_url,
        event_key="inngest-key",
        is_production=True,
        signing_key="signkey-prod-0000",
    )
    user_id = unique("user")
    ids = await client.send(
        inngest.Event(
            name="user/signup.completed",
            data={
                "userId": user_id,
                "email": f"{user_id}@example.com",
                "name": "Sdk",
                "plan": "pro",
            },
        )
    )
    assert len(ids) == 1

    async def routed() -> dict[str, Any] | None:
        # Another process of the API took the event: what it routed is written within its
        # ROUTING_RECORD_SECONDS (half a second here; the default, 15 s, would time this out).
        record: dict[str, Any] = (await api.http.get(f"/api/events/{ids[0]}")).json()
        return record if record["routed"] else None

    record = await eventually(routed, timeout=10)
    assert record["data"]["userId"] == user_id
    assert {r["action"] for r in record["runs"]} == {"started"}
    run = record["runs"][0]
    description = await api.client.get_workflow_handle(run["workflowId"]).describe()
    assert description.status is not None


def test_event_json_round_trip_keeps_camel_case() -> None:
    event = build_registry(Settings()).catalog.parse(signup_event(crmProvider="hubspot"))
    dumped = event.to_json()
    assert dumped["data"]["crmProvider"] == "hubspot"
    assert json.loads(json.dumps(dumped))["data"]["userId"].startswith("user_")


async def test_an_sdk_retry_with_the_same_id_seed_gets_the_same_ids_and_starts_nothing(
    api: Api,
) -> None:
    """Inngest SDKs send `x-inngest-event-id-seed: <ms>,<base64 of 10 bytes>` and retry a failed
    send with the same request: events without ids get the same ids again."""
    seed = f"{int(time.time() * 1000)},{base64.b64encode(secrets.token_bytes(10)).decode()}"
    events = [signup_event(), signup_event()]
    headers = {"x-inngest-event-id-seed": seed}
    first = await api.http.post("/e/any-key", json=events, headers=headers)
    retry = await api.http.post("/e/any-key", json=events, headers=headers)
    # 200, or 202 on a machine too slow to route within the request: stored either way.
    assert {first.status_code, retry.status_code} <= {200, 202}, (first.text, retry.text)
    ids = first.json()["ids"]
    assert retry.json()["ids"] == ids == seeded_ids(seed, 2)
    assert await count_events(api, ids) == 2

    for event_id in ids:

        async def routed(event_id: str = event_id) -> dict[str, Any] | None:
            record: dict[str, Any] = (await api.http.get(f"/api/events/{event_id}")).json()
            return record if record["routed"] else None

        record = await eventually(routed)
        assert record["runs"]
        for run in record["runs"]:
            handle = api.client.get_workflow_handle(run["workflowId"])
            starts = [
                e
                async for e in handle.fetch_history_events()
                if e.HasField("workflow_execution_started_event_attributes")
            ]
            assert len(starts) == 1, run

    # A new send (a new seed) is new events.
    other = f"{int(time.time() * 1000)},{base64.b64encode(secrets.token_bytes(10)).decode()}"
    again = await api.http.post(
        "/e/any-key", json=events, headers={"x-inngest-event-id-seed": other}
    )
    assert set(again.json()["ids"]).isdisjoint(ids)
