"""registry: residents, households, history, counters, outbox

Revision ID: r001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "r001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("juminhyo_code", sa.String(11), nullable=False),
        sa.Column("municipality_code", sa.String(5), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kana", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("postal_code", sa.String(7), nullable=False),
        sa.Column("prefecture", sa.String(10), nullable=False),
        sa.Column("city", sa.String(40), nullable=False),
        sa.Column("town", sa.String(80), nullable=False),
        sa.Column("block", sa.String(80), nullable=False),
        sa.Column("building", sa.String(120), nullable=False),
        sa.Column("household_id", sa.Integer, nullable=False),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.Column("nationality", sa.String(2), nullable=False),
        sa.Column("residence_status", sa.String(40)),
        sa.Column("period_of_stay_until", sa.Date),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("registered_on", sa.Date, nullable=False),
    )
    op.create_index(
        "uq_residents_active_code",
        "residents",
        ["juminhyo_code"],
        unique=True,
        sqlite_where=sa.text("status = 'resident'"),
        postgresql_where=sa.text("status = 'resident'"),
    )
    op.create_index("ix_residents_household", "residents", ["household_id"])
    op.create_index("ix_residents_kana_birth", "residents", ["kana", "birth_date"])
    op.create_table(
        "households",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("municipality_code", sa.String(5), nullable=False),
        sa.Column("head_resident_id", sa.Integer),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("resident_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_history_resident", "history", ["resident_id"])
    op.create_table(
        "counters",
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("next", sa.Integer, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at"])


def downgrade() -> None:
    for table in ("outbox", "counters", "history", "households", "residents"):
        op.drop_table(table)
