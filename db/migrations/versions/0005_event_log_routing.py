"""event log as the source of truth: routing state on each event, one route per event and function

Events are now stored in the transaction of the change they announce and routed afterwards, so
each row carries its routing state (routed_at, a lease for the dispatcher that claimed it,
attempts, the next attempt). What routing did moves from a JSON column to `event_routes`, whose
primary key makes an event reach a function once. Names and ids are bounded at 256 characters.

Revision ID: 0005
Revises: 0002, 0003, 0004
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from inngest_temporal.db import UtcDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    old = sa.table(
        "events",
        sa.column("id", sa.String),
        sa.column("runs", sa.JSON),
        sa.column("received_at", UtcDateTime(timezone=True)),
    )
    # What earlier routing did, read before its column goes (one route per event and function).
    rows = [
        {
            "event_id": event_id,
            "function_id": run["functionId"],
            "workflow_id": run["workflowId"],
            "action": run["action"],
            "routed_at": received_at or datetime.now(UTC),
        }
        for event_id, runs, received_at in connection.execute(sa.select(old))
        for run in {r["functionId"]: r for r in runs or []}.values()
    ]
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("id", type_=sa.String(length=256), existing_nullable=False)
        batch_op.alter_column("name", type_=sa.String(length=256), existing_nullable=False)
        batch_op.alter_column("v", type_=sa.String(length=256), existing_nullable=True)
        batch_op.drop_column("runs")
        batch_op.add_column(sa.Column("routed_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    # Every event stored before this revision was routed when it was accepted.
    op.execute("UPDATE events SET routed_at = received_at")
    op.create_index(
        "ix_events_unrouted",
        "events",
        ["received_at"],
        unique=False,
        sqlite_where=sa.text("routed_at IS NULL"),
        postgresql_where=sa.text("routed_at IS NULL"),
    )
    routes = op.create_table(
        "event_routes",
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("function_id", sa.String(length=256), nullable=False),
        sa.Column("workflow_id", sa.String(length=1000), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("routed_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("event_id", "function_id"),
    )
    if rows:
        op.bulk_insert(routes, rows)


def downgrade() -> None:
    op.drop_index("ix_events_unrouted", table_name="events")
    with op.batch_alter_table("events", schema=None) as batch_op:
        for column in ("last_error", "next_attempt_at", "attempts", "lease_until", "routed_at"):
            batch_op.drop_column(column)
        batch_op.add_column(sa.Column("runs", sa.JSON(), nullable=False, server_default="[]"))
    op.drop_table("event_routes")
