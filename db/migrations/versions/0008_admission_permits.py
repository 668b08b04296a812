"""admission in the database: concurrency permits and throttle slots

Runs take their throttle slot or concurrency permit with a local activity in one transaction
(inngest_temporal/permits.py) instead of asking a gate workflow: `permits` holds the holders and
the line of each (function, key), `throttle_slots` the slots reserved in each throttle's window.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inngest_temporal.db import UtcDateTime

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "permits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gate_id", sa.String(length=600), nullable=False),
        sa.Column("workflow_id", sa.String(length=1000), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("holding", sa.Boolean(), nullable=False),
        sa.Column("since", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gate_id", "workflow_id", "run_id", name="uq_permits_holder"),
    )
    op.create_index("ix_permits_line", "permits", ["gate_id", "holding", "id"], unique=False)
    op.create_table(
        "throttle_slots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gate_id", sa.String(length=600), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_throttle_slots_gate_at", "throttle_slots", ["gate_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_throttle_slots_gate_at", table_name="throttle_slots")
    op.drop_table("throttle_slots")
    op.drop_index("ix_permits_line", table_name="permits")
    op.drop_table("permits")
