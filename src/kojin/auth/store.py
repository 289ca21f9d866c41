"""The authentication store: the challenge key and every challenge already used."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table

metadata = MetaData()

challenge_keys = Table(
    "challenge_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A challenge is stateless until used; its nonce lands here exactly once, and
# the primary key is what makes a replay fail across every worker process.
used_challenges = Table(
    "used_challenges",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("rp_id", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("serial", String(40), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False),
    # Expired nonces are deleted by the writer (u002): an expired challenge is
    # refused before this table is asked.
    Index("ix_used_challenges_expires", "expires_at"),
)
