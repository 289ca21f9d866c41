"""hub: keys, agencies, persons, codes, request ids, §23 records

Revision ID: h001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "h001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("agency_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("sign_public", sa.LargeBinary(32), nullable=False),
        sa.Column("box_public", sa.LargeBinary(32), nullable=False),
        sa.Column("channel_key", sa.LargeBinary(32), nullable=False),
        sa.Column("endpoint", sa.String(300)),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "codes",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("agency_id", sa.String(40), nullable=False),
        sa.Column("internal_id", sa.String(32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_codes_person_agency", "codes", ["internal_id", "agency_id"], unique=True)
    op.create_table(
        "exchange_records",
        sa.Column("record_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
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
        sa.Column("leaf_index", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_exchange_records_request", "exchange_records", ["requester_id", "request_id"])
    op.create_table(
        "hub_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("code_key", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "persons",
        sa.Column("internal_id", sa.String(32), primary_key=True),
        sa.Column("link_id", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "seen_requests",
        sa.Column("requester", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seen_requests_at", "seen_requests", ["seen_at"])


def downgrade() -> None:
    op.drop_table("seen_requests")
    op.drop_table("persons")
    op.drop_table("hub_keys")
    op.drop_table("exchange_records")
    op.drop_table("codes")
    op.drop_table("agencies")
