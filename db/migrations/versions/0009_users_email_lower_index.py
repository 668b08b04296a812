"""users are found by address through an index on lower(email)

Sign-up and sign-in look a user up by address whatever its case (`lower(email) = ?`); without an
index on that expression every lookup read the whole users table. Unique: two addresses that
differ only in case are one person's, and now one account (the API always stored them in lower
case, so existing rows do not collide).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ux_users_email_lower", "users", [sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    op.drop_index("ux_users_email_lower", table_name="users")
