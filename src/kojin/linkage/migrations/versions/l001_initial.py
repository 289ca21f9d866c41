"""linkage: comparison keys, review cases, decisions, links

Revision ID: l001
Revises:

Written out with explicit ``op`` calls rather than from ``store.py``'s metadata,
so that later revisions (l002 …) can add to it.
"""

from alembic import op
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)

revision = "l001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = (
    "match_secrets",
    "resident_keys",
    "history_keys",
    "stale_residents",
    "index_state",
    "batches",
    "cases",
    "decisions",
    "links",
)


def upgrade() -> None:
    op.create_table(
        "match_secrets",
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("key", LargeBinary(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "resident_keys",
        Column("resident_id", BigInteger, primary_key=True, autoincrement=False),
        Column("juminhyo_code", String(11), nullable=False),
        Column("status", String(16), nullable=False),
        Column("sex", String(1), nullable=False),
        Column("birth_date", Date, nullable=False),
        Column("surname", String(100), nullable=False),
        Column("given", String(100), nullable=False),
        Column("surname_kana", String(100), nullable=False),
        Column("given_kana", String(100), nullable=False),
        Column("postal_code", String(7), nullable=False),
        Column("prefecture", String(20), nullable=False),
        Column("city", String(60), nullable=False),
        Column("town", String(120), nullable=False),
        Column("numbers", String(60), nullable=False),
    )
    op.create_table(
        "history_keys",
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("resident_id", BigInteger, nullable=False, index=True),
        Column("kind", String(10), nullable=False),  # name | address
        Column("surname", String(100), nullable=False, default=""),
        Column("given", String(100), nullable=False, default=""),
        Column("surname_kana", String(100), nullable=False, default=""),
        Column("given_kana", String(100), nullable=False, default=""),
        Column("postal_code", String(7), nullable=False, default=""),
        Column("prefecture", String(20), nullable=False, default=""),
        Column("city", String(60), nullable=False, default=""),
        Column("town", String(120), nullable=False, default=""),
        Column("numbers", String(60), nullable=False, default=""),
    )
    op.create_table(
        "stale_residents",
        Column("resident_id", BigInteger, primary_key=True, autoincrement=False),
        Column("noted_at", DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "index_state",
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("last_resident_id", BigInteger, nullable=False),
        Column("refreshed_at", DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "batches",
        Column("batch_id", Integer, primary_key=True, autoincrement=True),
        Column("agency_id", String(40), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("members", Integer, nullable=False, default=0),
        Column("linked", Integer, nullable=False, default=0),
        Column("review", Integer, nullable=False, default=0),
        Column("no_match", Integer, nullable=False, default=0),
    )
    op.create_table(
        "cases",
        Column("case_id", Integer, primary_key=True, autoincrement=True),
        Column("batch_id", Integer),
        Column("agency_id", String(40), nullable=False),
        Column("member_id", String(64), nullable=False),
        Column("member", Text, nullable=False),  # JSON: the four basic items as sent
        Column("reasons", Text, nullable=False),  # "code[:field];…"
        Column("candidates", Text, nullable=False),  # JSON list
        Column("score", Float),
        Column("status", String(16), nullable=False),  # open | linked | no_match
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_cases_status", "status", "case_id"),
        Index("ix_cases_member", "agency_id", "member_id"),
    )
    op.create_table(
        "decisions",
        Column("decision_id", Integer, primary_key=True, autoincrement=True),
        Column("case_id", Integer, nullable=False, index=True),
        Column("outcome", String(16), nullable=False),  # link | no_match
        Column("resident_id", BigInteger),
        Column("clerk", String(100), nullable=False),
        Column("decided_at", DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "links",
        Column("link_no", Integer, primary_key=True, autoincrement=True),
        Column("agency_id", String(40), nullable=False),
        Column("member_id", String(64), nullable=False),
        Column("resident_id", BigInteger, nullable=False, index=True),
        Column("agency_code", String(64), nullable=False),
        Column("score", Float),
        Column("method", String(8), nullable=False),  # auto | clerk
        Column("address_level", String(20)),
        Column("member_name", String(200), nullable=False),
        Column("member_kana", String(200), nullable=False),
        Column("member_sex", String(1), nullable=False),
        Column("member_birth_date", Date, nullable=False),
        Column("member_postal_code", String(7), nullable=False),
        Column("member_address", String(400), nullable=False),
        Column("case_id", Integer),
        Column("batch_id", Integer),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("uq_links_member", "agency_id", "member_id", unique=True),
        Index("ix_links_code", "agency_id", "agency_code"),
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
