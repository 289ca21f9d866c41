"""agency: keys, people, copies (副本), §23 log

Revision ID: g001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "g001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("agency_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("sign_private", sa.LargeBinary(32), nullable=False),
        sa.Column("box_private", sa.LargeBinary(32), nullable=False),
        sa.Column("channel_key", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "copies",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("item", sa.String(200), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("withheld", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "exchange_log",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("requester_id", sa.String(40), nullable=False),
        sa.Column("requester_name", sa.String(200), nullable=False),
        sa.Column("provider_id", sa.String(40), nullable=False),
        sa.Column("provider_name", sa.String(200), nullable=False),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provided_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("withheld", sa.Boolean(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger()),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_exchange_log_code", "exchange_log", ["code"])
    op.create_table(
        "people",
        sa.Column("local_id", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("people")
    op.drop_table("exchange_log")
    op.drop_table("copies")
    op.drop_table("agency_keys")
