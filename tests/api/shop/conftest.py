"""The shop's API tests: the app and a worker on the session's dev server, with a local fulfilment
provider that answers at once."""

import pytest

from settings import Settings
from tests.api.conftest import STAFF

__all__ = ["STAFF"]


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    # A loaded machine may take seconds to run a step: the decisions answer what the run did
    # (200 or 409), not 202 for "not yet".
    return api_settings.model_copy(
        update={"fulfillment_local_seconds": 0.05, "refund_decision_wait_seconds": 30}
    )
