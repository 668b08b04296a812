"""crm: one row per CRM push, with its start and finish times

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_pushes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("started_at", db.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", db.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("crm_pushes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_pushes_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_pushes_provider"), ["provider"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crm_pushes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_pushes_provider"))
        batch_op.drop_index(batch_op.f("ix_crm_pushes_user_id"))
    op.drop_table("crm_pushes")
