"""Every activity test here runs twice, on SQLite and on PostgreSQL: `sessions` in this directory is
the root conftest's parametrized `any_sessions` (ids `[sqlite]` and `[postgresql]`)."""

import pytest

from inngest_temporal import Sessions


@pytest.fixture(scope="session")
def sessions(any_sessions: Sessions) -> Sessions:
    return any_sessions
