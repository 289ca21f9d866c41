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
    Index("ix_numbers_code", "juminhyo_code"),
    Index(
        "uq_numbers_active_code",
        "juminhyo_code",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)
