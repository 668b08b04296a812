"""Alembic runs migrations through the same async engine the app uses."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from db.models import Base
from inngest_temporal import create_engine, event_log_metadata
from settings import Settings

# The application's tables and the engine's event log, migrated together.
target_metadata = [Base.metadata, event_log_metadata]


def _database_url() -> str:
    # Migrations need the database only: no secrets, whatever ENVIRONMENT says.
    return Settings(environment="development").database_url


def _url() -> str:
    url: str = context.config.attributes.get("database_url") or _database_url()
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
