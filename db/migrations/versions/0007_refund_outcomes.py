"""refunds record what their run did: the decision it applied, why it failed, when it completed

`decision_event_id`: the `refund/decision` event the process-refund run applied (the decision
endpoints answer from it); `failure_reason`: why a refund ended `failed` (the payment provider
refused it); `completed_at`: when the money went back (the daily digest nets revenue by it).
Refunds completed before this revision count as completed when they were last updated.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inngest_temporal.db import UtcDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_event_id", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("completed_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_refunds_completed_at"), ["completed_at"], unique=False)
    op.execute("UPDATE refunds SET completed_at = updated_at WHERE status = 'completed'")


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_completed_at"))
        batch_op.drop_column("completed_at")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("decision_event_id")
