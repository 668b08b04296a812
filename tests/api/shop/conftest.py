"""The shop's API tests: the app and a worker on the session's dev server, with a local fulfilment
provider that answers at once and a known admin token."""

import pytest

from settings import Settings

ADMIN_TOKEN = "staff-secret"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def api_settings(database_url: str, task_queue: str) -> Settings:
    return Settings(
        environment="development",
        database_url=database_url,
        task_queue=task_queue,
        fulfillment_local_seconds=0.05,
        admin_token=ADMIN_TOKEN,
        # A loaded machine may take seconds to run a step: the decisions answer what the run
        # did (200 or 409), not 202 for "not yet".
        refund_decision_wait_seconds=30,
    )
