"""The matching service's store (照合サービスのデータストア).

J-LIS keeps here what it derives from the register for comparison — folded
names, loose kana, structured addresses, old names and addresses from the
history — and what the service decided: review cases, clerks' decisions and
the links it made. Names are kept as sent by the agency in cases and links, so
an audit sees exactly what was matched.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The HMAC key that signs the review page's CSRF tokens.
match_secrets = Table(
    "match_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Comparison keys of each resident's current four basic items.
resident_keys = Table(
    "resident_keys",
    metadata,
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
    # Added in l002: the strict readings, for judging kana typos.
    Column("surname_strict", String(100), nullable=False, server_default=""),
    Column("given_strict", String(100), nullable=False, server_default=""),
)

# Old names and addresses from the register's history (異動履歴), one row each.
history_keys = Table(
    "history_keys",
    metadata,
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
    Column("surname_strict", String(100), nullable=False, server_default=""),
    Column("given_strict", String(100), nullable=False, server_default=""),
)

# Residents the register said changed (転居, 氏名変更, 転出, 死亡) since the last refresh.
stale_residents = Table(
    "stale_residents",
    metadata,
    Column("resident_id", BigInteger, primary_key=True, autoincrement=False),
    Column("noted_at", DateTime(timezone=True), nullable=False),
)

index_state = Table(
    "index_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_resident_id", BigInteger, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    # Added in l003: raised in every transaction that changes the keys, so a
    # snapshot of the index says which state of them it holds.
    Column("generation", BigInteger, nullable=False, server_default="0"),
)

# The loaded index's rows as one marshalled value, cut into parts (PostgreSQL
# refuses a value over 1 GB), for the generation of the keys it was read at:
# a process starting up reads these instead of a million rows (索引のスナップショット).
index_snapshots = Table(
    "index_snapshots",
    metadata,
    Column("generation", BigInteger, primary_key=True, autoincrement=False),
    Column("part", Integer, primary_key=True, autoincrement=False),
    Column("format", String(40), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One agency's submission (一括照会).
batches = Table(
    "batches",
    metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", String(40), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("members", Integer, nullable=False, default=0),
    Column("linked", Integer, nullable=False, default=0),
    Column("review", Integer, nullable=False, default=0),
    Column("no_match", Integer, nullable=False, default=0),
)

# Review cases (要確認案件): the member as sent, reasons, candidates with their levels.
cases = Table(
    "cases",
    metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer),
    Column("agency_id", String(40), nullable=False),
    Column("member_id", String(64), nullable=False),
    Column("member", Text, nullable=False),  # JSON: the four basic items as sent
    Column("reasons", Text, nullable=False),  # "code[:field];…"
    Column("candidates", Text, nullable=False),  # JSON list
    Column("score", Float),
    Column("status", String(16), nullable=False),  # open | pending_second | linked | no_match | superseded
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Added in l004: a link below the automatic threshold waits here for a second,
    # different clerk (pending_second): who proposed it, and whom.
    Column("proposed_by", String(64)),
    Column("proposed_resident", BigInteger),
    Index("ix_cases_status", "status", "case_id"),
    Index("ix_cases_member", "agency_id", "member_id"),
)

# Every clerk's decision, with who and when (判断記録).
decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("outcome", String(16), nullable=False),  # link | proposed | no_match
    Column("resident_id", BigInteger),
    Column("clerk", String(100), nullable=False),
    # Added in l004: the staff identity the door proved (the name above is for people to read).
    Column("clerk_id", String(64)),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

# Links made (紐付け): by the rule (auto) or by a clerk, with what the agency sent.
links = Table(
    "links",
    metadata,
    Column("link_no", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", String(40), nullable=False),
    Column("member_id", String(64), nullable=False),
    Column("resident_id", BigInteger, nullable=False, index=True),
    Column("agency_code", String(64), nullable=False),
    Column("score", Float),
    Column("method", String(8), nullable=False),  # auto | clerk | clerk2 (two clerks)
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
