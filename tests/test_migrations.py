"""The migrations build exactly the tables the models declare (what `alembic check` checks): a
model changed without its migration would otherwise surface as a failed insert in production."""

from alembic import command

from tests.conftest import alembic_config


def test_sqlite_schema_matches_the_models(database_url: str) -> None:
    command.check(alembic_config(database_url))


def test_postgresql_schema_matches_the_models(postgres_url: str) -> None:
    command.check(alembic_config(postgres_url))
