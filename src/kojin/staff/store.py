"""The staff party's own store: members, access log, refusals, bulk approvals, recipients, tokens, keys, sessions.

The access log lives with the staff party (who looked at whom and why) so that
the person's view and the auditor's view read one table; organisations and
roles are stored as they were at the time of the access.
"""

from __future__ import annotations

from sqlalchemy import (
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

# Row 1: the 32-byte seed of the Ed25519 key that signs access tokens.
staff_keys = Table(
    "staff_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

staff_members = Table(
    "staff_members",
    metadata,
    Column("staff_id", String(40), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("org_kind", String(20), nullable=False),
    Column("org_id", String(40), nullable=False),
    Column("role", String(20), nullable=False),
    Column("card_serial", String(40), unique=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("staff_id", String(40), nullable=False),
    Column("role", String(20), nullable=False),
    Column("org_kind", String(20), nullable=False),
    Column("org_id", String(40), nullable=False),
    Column("person_key", String(64), nullable=False),
    Column("purpose", String(100), nullable=False),
    Column("what", String(10), nullable=False),
    Column("shown", Integer, nullable=False),
    Column("bulk_id", Integer),
    # The entry's own random reference, named by its leaf in the exchange log.
    Column("entry_ref", String(32), unique=True),
    # How the staff member came in: a token's or session's id, or ``cli:<OS user>:…`` at a terminal.
    Column("via", String(80)),
    Index("ix_access_person", "person_key"),
    Index("ix_access_staff", "staff_id"),
)

bulk_approvals = Table(
    "bulk_approvals",
    metadata,
    Column("bulk_id", Integer, primary_key=True, autoincrement=True),
    Column("requester_id", String(40), nullable=False),
    Column("org_kind", String(20), nullable=False),
    Column("org_id", String(40), nullable=False),
    Column("purpose", String(100), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("recipient", String(100), nullable=False),
    # The export's SHA-256 of the encrypted file, its actual rows and file name, once done.
    Column("content_hash", String(64)),
    Column("status", String(10), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("approver_id", String(40)),
    Column("approved_at", DateTime(timezone=True)),
    Column("exported_rows", Integer),
    Column("file_name", String(100)),
    Column("exported_at", DateTime(timezone=True)),
    Index("ix_bulk_requester", "requester_id"),
)

# Who export files may be encrypted to: a name, the certificate of their RSA key, who registered it.
recipients = Table(
    "staff_recipients",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("certificate_pem", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("registered_by", String(40), nullable=False),
    Column("org", String(60), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# A token is revoked by its jti until it would have expired anyway.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Refused attempts at a staff door: who (if known), where, why; nothing was read or written.
refusals = Table(
    "staff_refusals",
    metadata,
    Column("refusal_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("staff_id", String(40)),
    Column("role", String(20)),
    Column("org", String(60)),
    Column("method", String(10), nullable=False),
    Column("path", String(200), nullable=False),
    Column("code", String(60), nullable=False),
    Index("ix_refusal_staff", "staff_id"),
)

# The public key of each CLI operator's key file (the private key stays in the file, mode 0600).
operator_keys = Table(
    "staff_operator_keys",
    metadata,
    Column("staff_id", String(40), primary_key=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Staff web sessions: the cookie holds a random token, the store its SHA-256.
# A pending row waits for the card's answer to its challenge; an active one is
# bound to the card (its certificate serial) and the reader's insertion.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("session_id", String(64), nullable=False, unique=True),
    Column("state", String(8), nullable=False),  # pending | active
    Column("csrf_token", String(64), nullable=False),
    Column("challenge", String(300)),
    Column("staff_id", String(40)),
    Column("card_serial", String(40)),
    Column("insertion_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_staff_sessions_insertion", "insertion_id"),
    Index("ix_staff_sessions_staff", "staff_id"),
)

# Each card-login challenge's nonce, once: the primary key refuses a replay
# from any worker process.
staff_used_challenges = Table(
    "staff_used_challenges",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False),
    Index("ix_staff_used_challenges_expiry", "expires_at"),
)
