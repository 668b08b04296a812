"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the basis of idempotent steps."""

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import Base


def insert_ignore(session: AsyncSession, model: type[Base]) -> Insert:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = module.insert(model).on_conflict_do_nothing()
    return stmt
