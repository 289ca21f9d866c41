"""corporate: corporations

Revision ID: c001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "c001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corporations",
        sa.Column("corporate_number", sa.String(13), primary_key=True),
        sa.Column("name", sa.String(150), nullable=False),
        sa.Column("furigana", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("prefecture", sa.String(10), nullable=False),
        sa.Column("city", sa.String(40), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("postal_code", sa.String(7), nullable=False),
        sa.Column("assignment_date", sa.Date(), nullable=False),
        sa.Column("close_date", sa.Date()),
        sa.Column("close_cause", sa.String(2)),
    )
    op.create_index("ix_corporations_name", "corporations", ["name"])


def downgrade() -> None:
    op.drop_table("corporations")
