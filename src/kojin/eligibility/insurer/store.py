"""One insurer's store (保険者のデータストア): its members and the 資格確認書 it issued.

Each insurer has a store of its own (``insurer_<id>``); members are kept under
the insurer's own local id and its agency code, never a number.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, MetaData, SmallInteger, String, Table, Text

metadata = MetaData()

# 被保険者台帳: members and dependants (被扶養者).
members = Table(
    "members",
    metadata,
    Column("local_id", String(20), primary_key=True),
    Column("member_code", String(32), nullable=False, unique=True),
    Column("symbol", String(20), nullable=False),
    Column("number", String(20), nullable=False),
    Column("branch", String(2), nullable=False),
    Column("family", Boolean, nullable=False),
    Column("insured_local_id", String(20), nullable=False),  # the 本人 (self for the 本人)
    Column("insured_name", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kana", String(100), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("address", String(300), nullable=False),
    Column("postal_code", String(7), nullable=False),
    Column("qualified_on", Date, nullable=False),
    Column("lost_on", Date),
    Column("loss_reason", String(2)),
    Column("ratio", SmallInteger, nullable=False),
    Column("elderly", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_members_card", "symbol", "number", "branch"),
)

# 資格確認書 issued: the newest active one per member is the one in force.
certificates = Table(
    "certificates",
    metadata,
    Column("certificate_id", String(24), primary_key=True),
    Column("local_id", String(20), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("reason", String(20), nullable=False),  # no_card | cancelled | renewal
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_certificates_member", "local_id"),
)

# Sequence counters for card numbers (番号) per symbol.
counters = Table(
    "counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)
