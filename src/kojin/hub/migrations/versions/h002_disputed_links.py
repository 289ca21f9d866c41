"""hub: codes whose link to a person the person disputed

Revision ID: h002_disputed_links
Revises: h001
"""

import sqlalchemy as sa
from alembic import op

revision = "h002_disputed_links"
down_revision = "h001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputed_codes",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("agency_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("disputed_codes")
