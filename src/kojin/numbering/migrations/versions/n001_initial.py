"""numbering: keys and numbers

Revision ID: n001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "n001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "numbering_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "numbers",
        sa.Column("number", sa.String(12), primary_key=True),
        sa.Column("juminhyo_code", sa.String(11), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("retire_reason", sa.String(200)),
        sa.Column("designated_by", sa.String(100)),
    )
    op.create_index("ix_numbers_code", "numbers", ["juminhyo_code"])
    op.create_index(
        "uq_numbers_active_code",
        "numbers",
        ["juminhyo_code"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_table("numbers")
    op.drop_table("numbering_keys")
