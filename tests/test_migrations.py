"""The migrations build exactly the tables the models declare (what `alembic check` checks): a
model changed without its migration would otherwise surface as a failed insert in production.
And the lookup every sign-up and sign-in makes is served by an index."""

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import User
from tests.fixtures import alembic_config

# Alembic cannot compare an index on an expression (it says so, and skips it): the lookup test below
# checks `ux_users_email_lower` instead.
SKIPS_EXPRESSION_INDEX = pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)


@SKIPS_EXPRESSION_INDEX
def test_sqlite_schema_matches_the_models(database_url: str) -> None:
    command.check(alembic_config(database_url))


@SKIPS_EXPRESSION_INDEX
def test_postgresql_schema_matches_the_models(postgres_url: str) -> None:
    command.check(alembic_config(postgres_url))


async def test_a_user_is_found_by_address_through_an_index_not_a_scan(
    any_engine: AsyncEngine,
) -> None:
    """On SQLite and PostgreSQL: sign-up and sign-in read one index entry, not every user."""
    lookup = select(User.id).where(User.email_is("Someone@Example.com"))
    async with any_engine.connect() as connection:
        dialect = connection.dialect
        sql = str(lookup.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "postgresql":
            # A test's table is small enough for a scan to win; the question is whether the
            # index serves the lookup at all.
            await connection.execute(text("SET enable_seqscan = off"))
            plan = (await connection.execute(text(f"EXPLAIN {sql}"))).scalars().all()
        else:
            plan = [row[-1] for row in await connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    assert any("ux_users_email_lower" in line for line in plan), plan
