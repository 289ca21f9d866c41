"""audit: leaf_tags, the index of a person's leaves

Revision ID: a002
Revises: a001

Starts empty: leaves logged before it are indexed by ``kojin audit reindex``.
"""

import sqlalchemy as sa
from alembic import op

revision = "a002"
down_revision = "a001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaf_tags",
        sa.Column("tag", sa.LargeBinary(32), primary_key=True),
        sa.Column("leaf_index", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("leaf_tags")
