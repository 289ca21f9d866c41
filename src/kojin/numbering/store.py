"""The numbering store: the only place individual numbers exist (個人番号の保管)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)

metadata = MetaData()

numbering_keys = Table(
    "numbering_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Every number ever issued stays here, active or retired, so the primary key
# alone guarantees that no number is ever issued twice (番号法 §8).
numbers = Table(
    "numbers",
    metadata,
    Column("number", String(12), primary_key=True),
    Column("juminhyo_code", String(11), nullable=False),
    Column("status", String(8), nullable=False),  # active | retired
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True)),
    Column("retire_reason", String(200)),
    Column("designated_by", String(100)),
    # Every code ever numbered has one active number, so this index alone
    # answers "was this code ever numbered?"; retired numbers (rare) have
    # their own small index for the history (n003).
    Index(
        "uq_numbers_active_code",
        "juminhyo_code",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
    Index(
        "ix_numbers_retired_code",
        "juminhyo_code",
        sqlite_where=text("status = 'retired'"),
        postgresql_where=text("status = 'retired'"),
    ),
)


# -- added by later revisions ------------------------------------------------
# ``metadata`` describes the newest schema (n001 spells out the one it shipped
# with); link_keys stays outside it, as it was created by n002.

# n002: the key of the 取得番号 flow. J-LIS maps a number to an opaque link id
# (HMAC of the 住民票コード under this key) and hands only that to the hub, so
# the number never leaves J-LIS and a number change leaves the link id alone.
link_keys = Table(
    "link_keys",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# n004: the link ids given out for agencies' codes (取得番号), back to the person,
# so J-LIS can answer a narrow question about the person behind an agency's code.
link_ids = Table(
    "link_ids",
    metadata,
    Column("link_id", String(64), primary_key=True),
    Column("juminhyo_code", String(11), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
