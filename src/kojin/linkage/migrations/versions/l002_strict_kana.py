"""linkage: strict readings beside the loose ones, for judging kana typos

Revision ID: l002
Revises: l001
"""

import sqlalchemy as sa
from alembic import op

revision = "l002"
down_revision = "l001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("resident_keys", "history_keys"):
        op.add_column(table, sa.Column("surname_strict", sa.String(100), nullable=False, server_default=""))
        op.add_column(table, sa.Column("given_strict", sa.String(100), nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("resident_keys", "history_keys"):
        op.drop_column(table, "given_strict")
        op.drop_column(table, "surname_strict")
