"""Personal data stays out of Temporal's plain text: a signup's runs keep no email or name in
their histories (inputs, results, step ids, failures are all encrypted), staff decode them
through the codec server, and a key rotation keeps old runs readable."""

import logging
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.security import issue_access_token
from infra.logs import MaskEmails
from inngest_temporal.codec import KEY_ID_METADATA, data_converter, generate_key, parse_keys
from tests.api.conftest import STAFF, Api
from tests.api.trust.conftest import Production
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.shop import add_user
from tests.support import eventually, unique


async def signup_runs(api: Api, email: str, name: str) -> list[str]:
    response = await api.http.post(
        "/api/auth/signup", json={"email": email, "name": name, "plan": "pro"}
    )
    assert response.status_code == 201, response.text
    event_id = f"signup-{response.json()['userId']}"

    async def finished() -> list[str] | None:
        runs = (await api.http.get(f"/api/events/{event_id}")).json()["runs"]
        done = {r["functionId"]: r for r in runs if r["status"] == "COMPLETED"}
        if {"provision-account", "send-welcome-email"} <= set(done):
            return [r["workflowId"] for r in runs]
        return None

    return await eventually(finished)


async def raw_history(client: Client, workflow_id: str) -> bytes:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in history.events)


async def test_a_signups_histories_hold_no_email_or_name(api: Api) -> None:
    email, name = f"{unique('grace.hopper')}@example.com", "Grace Brewster Hopper"
    workflow_ids = await signup_runs(api, email, name)
    for workflow_id in workflow_ids:
        raw = await raw_history(api.client, workflow_id)
        assert raw, workflow_id
        assert email.encode() not in raw and name.encode() not in raw, workflow_id
    # The codec's client reads them back: the welcome run's result names the address.
    welcome = next(w for w in workflow_ids if w.startswith("send-welcome-email"))
    result = await api.client.get_workflow_handle(welcome).result()
    assert result["to"] == email


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    body: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    return body


async def test_the_codec_server_decodes_for_staff_only(production: Production) -> None:
    encoded = await production.api.client.data_converter.encode(["ada@example.com"])
    body = as_json(encoded)
    user = await add_user(production.api.sessions)
    customer = {"Authorization": f"Bearer {issue_access_token(production.settings, user.id)}"}

    anonymous = await production.http.post("/codec/decode", json=body)
    not_staff = await production.http.post("/codec/decode", json=body, headers=customer)
    staff = await production.http.post("/codec/decode", json=body, headers=STAFF)

    assert (anonymous.status_code, not_staff.status_code, staff.status_code) == (401, 403, 200)
    [decoded] = json_format.ParseDict(staff.json(), Payloads()).payloads
    assert decoded.data == b'"ada@example.com"'
    preflight = await production.http.options(
        "/codec/decode",
        headers={
            "Origin": "http://localhost:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:8233"


async def test_a_key_rotation_keeps_old_runs_readable(
    api: Api, dev_env: WorkflowEnvironment
) -> None:
    email = f"{unique('ada')}@example.com"
    [old_run, *_] = await signup_runs(api, email, "Ada")
    old_id = parse_keys(TEST_ENCRYPTION_KEY)[0].key_id
    new_key = generate_key()
    rotated = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=data_converter(parse_keys(f"{new_key},{TEST_ENCRYPTION_KEY}")),
    )
    new_id = parse_keys(new_key)[0].key_id

    # Old runs still readable under the rotated key list ...
    old = rotated.get_workflow_handle(old_run)
    assert (await old.describe()).status is not None
    history = await old.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata[KEY_ID_METADATA].decode() == old_id
    [event] = await rotated.data_converter.decode([started], [dict])
    assert event["data"]["email"] == email
    # ... and what is written now is under the new key.
    [payload] = await rotated.data_converter.encode([{"email": email}])
    assert payload.metadata[KEY_ID_METADATA].decode() == new_id
    assert email.encode() not in payload.SerializeToString()


def test_production_logs_mask_email_addresses(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.masking")
    handler = logging.StreamHandler()
    handler.addFilter(MaskEmails())
    formatted: list[str] = []
    handler.emit = lambda record: formatted.append(handler.format(record))  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logger.warning("sending to %s failed", "ada@example.com")
        try:
            raise ValueError("no account for grace@example.org")
        except ValueError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(formatted)
    assert "ada@example.com" not in text and "grace@example.org" not in text
    assert "sending to <email> failed" in text and "no account for <email>" in text


async def test_nothing_personal_is_in_a_workflow_id_or_summary(api: Api) -> None:
    email = f"{unique('id.check')}@example.com"
    workflow_ids = await signup_runs(api, email, "Ida")
    for workflow_id in workflow_ids:
        description = await api.client.get_workflow_handle(workflow_id).describe()
        assert email not in workflow_id
        assert email not in str(await description.static_summary())
