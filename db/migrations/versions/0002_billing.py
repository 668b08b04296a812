"""billing: subscriptions

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=200), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", db.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stripe_subscription_id"),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscriptions_stripe_customer_id"), ["stripe_customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_stripe_customer_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_user_id"))
    op.drop_table("subscriptions")
