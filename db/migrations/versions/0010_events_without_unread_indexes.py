"""the event log keeps only the indexes its queries read

`ix_events_name` and `ix_events_received_at` served no query: events are read by id, and the
dispatcher finds unrouted ones through `ix_events_unrouted`. Each cost every accepted event two
more B-tree inserts (about a third of the insert's time in SQLite) and a sixth of its size on
disk.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_events_name", table_name="events")
    op.drop_index("ix_events_received_at", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_received_at", "events", ["received_at"])
    op.create_index("ix_events_name", "events", ["name"])
