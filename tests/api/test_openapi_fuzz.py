"""A property-based run over the OpenAPI document (schemathesis): for every operation, requests
generated from its declared schema, valid ones and invalid ones, sent to the API in-process on the
session's dev server. No answer may be a 5xx, and every answer must match the schema declared
for its status.

Driven through Hypothesis directly (`operation.as_strategy`): schemathesis's own pytest
integration does not run under pytest 9.2 (it sets `request.node._nodeid`)."""

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings

if TYPE_CHECKING:
    from schemathesis import BaseSchema

# Per operation and mode (valid, invalid); FUZZ_EXAMPLES=200 for a deeper run by hand.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# Staff endpoints take the (development) admin token, so requests reach past the key check.
STAFF = {"Authorization": f"Bearer {Settings().admin_token}"}


@pytest.fixture
def fuzzed_app(
    dev_env: WorkflowEnvironment, fresh_database_url: str, task_queue: str
) -> Iterator[FastAPI]:
    # A database of its own: the fuzzed API's dispatcher must not route other tests' events.
    app_settings = Settings(
        environment="development", database_url=fresh_database_url, task_queue=task_queue
    )

    async def connect() -> Client:
        return dev_env.client

    yield create_app(app_settings, connect=connect)
    # Schemathesis ran the app, lifespan included, on an event loop of its own, in a thread.
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()


@pytest.mark.long
def test_every_operation_answers_without_5xx_and_as_documented(fuzzed_app: FastAPI) -> None:
    # Imported here, not at the top: Hypothesis and schemathesis cost 0.7 s of CPU to import, in
    # each of the suite's processes that collect this module, and only one runs it.
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import Case, GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok
    from schemathesis.specs.openapi.checks import response_schema_conformance

    checks = [not_a_server_error, response_schema_conformance]
    schema: BaseSchema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    answers: Counter[tuple[str, int]] = Counter()
    started = time.monotonic()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document itself is valid
        operation = result.ok()
        parameters = [
            operation.path_parameters,
            operation.query,
            operation.headers,
            operation.body,
        ]
        modes = [GenerationMode.POSITIVE]
        if any(len(p) for p in parameters):  # else there is nothing to make invalid
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exchange(case: Case[Any]) -> None:
                declared = {name.lower() for name in case.headers or {}}
                headers = {} if "authorization" in declared else STAFF
                response = case.call_and_validate(headers=headers, checks=checks)
                answers[(case.operation.label, response.status_code)] += 1

            exchange()
    statuses = Counter(status for (_, status) in answers.elements())
    print(
        f"\nschemathesis: {sum(answers.values())} cases over "
        f"{len({label for label, _ in answers})} operations in "
        f"{time.monotonic() - started:.1f} s; statuses {dict(sorted(statuses.items()))}"
    )
