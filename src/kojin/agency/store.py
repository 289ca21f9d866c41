"""One agency's store (機関のデータストア): its keys, people, copies and §23 log.

Every agency gets its own store (``agency_<id>``), so no agency can read
another's people, codes or copies even when they run in one process.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The agency's private keys: Ed25519 to sign requests, X25519 to open answers,
# and the channel key it shares with the hub for the intermediate-server hop.
agency_keys = Table(
    "agency_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("agency_id", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("sign_private", LargeBinary(32), nullable=False),
    Column("box_private", LargeBinary(32), nullable=False),
    Column("channel_key", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The agency's people: its own local id (宛名番号) and its code (機関別符号).
people = Table(
    "people",
    metadata,
    Column("local_id", String(64), primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Copies (副本) the intermediate server answers from, keyed by the agency's code.
copies = Table(
    "copies",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("item", String(200), primary_key=True),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("withheld", Boolean, nullable=False),  # 不開示
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The agency's §23 record of every exchange it took part in, as requester or
# provider (情報提供等の記録).
exchange_log = Table(
    "exchange_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("role", String(10), nullable=False),  # requester | provider
    Column("request_id", String(64), nullable=False),
    Column("code", String(32), nullable=False),  # this agency's own code for the person
    Column("requester_id", String(40), nullable=False),
    Column("requester_name", String(200), nullable=False),
    Column("provider_id", String(40), nullable=False),
    Column("provider_name", String(200), nullable=False),
    Column("task", String(200), nullable=False),
    Column("item", String(200), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("provided_at", DateTime(timezone=True)),
    Column("outcome", String(16), nullable=False),
    Column("withheld", Boolean, nullable=False),
    Column("leaf_index", BigInteger),  # known to the requester, from the hub's answer
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_exchange_log_code", "code"),
)
