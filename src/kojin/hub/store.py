"""The hub's store (情報提供ネットワークシステムのデータストア).

It holds what the hub needs to translate and to answer for its routing, and
nothing about any person but opaque ids: no number, no name, no payload.
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
)

metadata = MetaData()

# The secret behind every agency code and subject key.
hub_keys = Table(
    "hub_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("code_key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Registered agencies: their public keys, and the channel key for the hop to
# their intermediate server. ``endpoint`` is the server's base URL when it is
# reached over HTTP; empty when it runs in this process.
agencies = Table(
    "agencies",
    metadata,
    Column("agency_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("sign_public", LargeBinary(32), nullable=False),
    Column("box_public", LargeBinary(32), nullable=False),
    Column("channel_key", LargeBinary(32), nullable=False),
    Column("endpoint", String(300)),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# A person as the hub knows them: a random internal id and J-LIS's link id.
persons = Table(
    "persons",
    metadata,
    Column("internal_id", String(32), primary_key=True),
    Column("link_id", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Codes the hub has handed out. A code is derived from the internal id, so a
# provider's code need not be stored to be computed; this table is what lets
# the hub go back from a requester's code to the person.
codes = Table(
    "codes",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("agency_id", String(40), nullable=False),
    Column("internal_id", String(32), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Index("uq_codes_person_agency", "internal_id", "agency_id", unique=True),
)

# Codes whose link to a person that person disputed in the portal: while
# ``suspended`` no exchange about the code is routed and the eligibility
# service answers no check by it; a supervisor lifts the row (the link was
# right) or marks it ``retired`` (the link was wrong: the code is never used
# again, and the agency obtains the right person's code anew).
disputed_codes = Table(
    "disputed_codes",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("agency_id", String(40), nullable=False),
    Column("state", String(10), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)

# Request ids (処理通番) the hub accepted, per requester: a replay is refused.
seen_requests = Table(
    "seen_requests",
    metadata,
    Column("requester", String(40), primary_key=True),
    Column("request_id", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_seen_requests_at", "seen_at"),
)

# The hub's own §23 record of every exchange it routed (情報提供等の記録).
exchange_records = Table(
    "exchange_records",
    metadata,
    Column("record_id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
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
    Column("leaf_index", BigInteger, nullable=False, unique=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Index("ix_exchange_records_request", "requester_id", "request_id"),
)
