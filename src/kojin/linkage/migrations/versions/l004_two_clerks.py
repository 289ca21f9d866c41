"""linkage: the staff identity of each decision, and the proposal a second clerk confirms

Revision ID: l004
Revises: l003
"""

import sqlalchemy as sa
from alembic import op

revision = "l004"
down_revision = "l003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("clerk_id", sa.String(64), nullable=True))
    op.add_column("cases", sa.Column("proposed_by", sa.String(64), nullable=True))
    op.add_column("cases", sa.Column("proposed_resident", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "proposed_resident")
    op.drop_column("cases", "proposed_by")
    op.drop_column("decisions", "clerk_id")
