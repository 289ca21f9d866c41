"""portal: links the person disputed

Revision ID: m002_link_disputes
Revises: m001
"""

import sqlalchemy as sa
from alembic import op

revision = "m002_link_disputes"
down_revision = "m001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_disputes",
        sa.Column("dispute_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("agency_id", sa.String(40)),
        sa.Column("code", sa.String(32)),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.Integer, nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.String(64)),
        sa.Column("resolver_org", sa.String(60)),
        sa.Column("resolution_note", sa.String(500)),
    )
    op.create_index("ix_link_disputes_resident", "link_disputes", ["resident_id"])
    op.create_index("ix_link_disputes_state", "link_disputes", ["state"])


def downgrade() -> None:
    op.drop_table("link_disputes")
