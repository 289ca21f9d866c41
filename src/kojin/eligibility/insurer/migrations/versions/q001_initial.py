"""insurer: members, 資格確認書, counters

Revision ID: q001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "q001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("certificate_id", sa.String(24), primary_key=True),
        sa.Column("local_id", sa.String(20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_certificates_member", "certificates", ["local_id"])
    op.create_table(
        "counters",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "members",
        sa.Column("local_id", sa.String(20), primary_key=True),
        sa.Column("member_code", sa.String(32), nullable=False, unique=True),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(2), nullable=False),
        sa.Column("family", sa.Boolean(), nullable=False),
        sa.Column("insured_local_id", sa.String(20), nullable=False),
        sa.Column("insured_name", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kana", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("postal_code", sa.String(7), nullable=False),
        sa.Column("qualified_on", sa.Date(), nullable=False),
        sa.Column("lost_on", sa.Date()),
        sa.Column("loss_reason", sa.String(2)),
        sa.Column("ratio", sa.SmallInteger(), nullable=False),
        sa.Column("elderly", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_members_card", "members", ["symbol", "number", "branch"])


def downgrade() -> None:
    op.drop_table("members")
    op.drop_table("counters")
    op.drop_table("certificates")
