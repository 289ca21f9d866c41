"""numbering: the link ids J-LIS handed out for agencies' codes, and whose they are

Revision ID: n004
Revises: n003

A link id is a one-way HMAC of the 住民票コード, so J-LIS cannot go back from
one it gave earlier; this table remembers those given when an insurer obtained
its codes (取得番号), so that J-LIS can answer a narrow question about the
person behind an insurer's code (the last four digits of the number) without
the number leaving J-LIS.
"""

import sqlalchemy as sa
from alembic import op

revision = "n004"
down_revision = "n003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_ids",
        sa.Column("link_id", sa.String(64), primary_key=True),
        sa.Column("juminhyo_code", sa.String(11), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("link_ids")
