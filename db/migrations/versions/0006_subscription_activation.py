"""subscriptions remember when they first paid

`activated_at`: the first time a subscription was in a paying status (active, trialing,
past_due). A subscription takes back only the plan it gave: an abandoned checkout (incomplete,
then incomplete_expired or canceled) never paid, so it leaves the user's running trial alone.
Subscriptions recorded before this revision that are in a paying status, or unpaid or paused
(which Stripe reaches only after paying), count as having paid since they were created.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inngest_temporal.db import UtcDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_at", UtcDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE subscriptions SET activated_at = created_at "
        "WHERE status IN ('active', 'trialing', 'past_due', 'unpaid', 'paused')"
    )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("activated_at")
