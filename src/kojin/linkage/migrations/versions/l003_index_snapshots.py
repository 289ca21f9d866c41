"""linkage: a generation on the comparison keys, and snapshots of the loaded index

Revision ID: l003
Revises: l002
"""

import sqlalchemy as sa
from alembic import op

revision = "l003"
down_revision = "l002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("index_state", sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "index_snapshots",
        sa.Column("generation", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("part", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", "part"),
    )


def downgrade() -> None:
    op.drop_table("index_snapshots")
    op.drop_column("index_state", "generation")
