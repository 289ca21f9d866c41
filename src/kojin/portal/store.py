"""The portal's own store (マイナポータルのデータストア).

Sessions live here, not in a worker's memory, so several uvicorn workers (or
machines) serve one person's session alike. The public-funds account registry,
proxies, the portal's activity log and notices are the portal's business too.
People are named by the register's resident id: this store never holds an
individual number, and URLs and forms never carry a resident id.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
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

# One row per browser session. ``token_hash`` is SHA-256 of the cookie value,
# so a copy of this table does not let anyone take a session over. A session
# is "pending" from the login page to the card's answer (it holds the
# challenge), then "active", bound to one card insertion.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("handle_key", LargeBinary(32), nullable=False),
    Column("challenge", String(300)),
    Column("card_id", String(64)),
    Column("auth_serial", String(40)),
    Column("insertion_id", String(64)),
    Column("resident_id", Integer),
    Column("acting_for", Integer),
    Column("acting_kind", String(10)),
    Column("proxy_id", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_card", "card_id"),
    Index("ix_sessions_insertion", "insertion_id"),
    Index("ix_sessions_seen", "last_seen_at"),
)

# 公金受取口座: one per person (resident_id unique). ``account_key`` names the
# account itself (bank-branch-type-number) so the integrity audit can find an
# account registered to several people.
public_funds_accounts = Table(
    "public_funds_accounts",
    metadata,
    Column("account_id", Integer, primary_key=True, autoincrement=True),
    Column("resident_id", Integer, nullable=False, unique=True),
    Column("bank_code", String(4), nullable=False),
    Column("branch_code", String(3), nullable=False),
    Column("account_type", String(10), nullable=False),
    Column("account_number", String(7), nullable=False),
    Column("holder_kana", String(100), nullable=False),
    Column("account_key", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", String(300)),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_accounts_key", "account_key"),
)

# 代理人: a person (proxy) acting for another (principal) within a scope until
# an expiry. Parents acting for a child under 15 need no row: the register
# says who they are, checked on every request.
proxies = Table(
    "proxies",
    metadata,
    Column("proxy_id", Integer, primary_key=True, autoincrement=True),
    Column("principal_id", Integer, nullable=False),
    Column("proxy_resident_id", Integer, nullable=False),
    Column("scope", String(100), nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_proxies_principal", "principal_id"),
    Index("ix_proxies_proxy", "proxy_resident_id"),
)

# An invitation the principal hands to the proxy out of band (a code shown
# once); the proxy accepts it after logging in with their own card.
proxy_invitations = Table(
    "proxy_invitations",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("principal_id", Integer, nullable=False),
    Column("scope", String(100), nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("ix_invitations_principal", "principal_id"),
)

# What was done through the portal, by whom, about whom: shown to both.
activity = Table(
    "activity",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("via", String(10), nullable=False),
    Column("action", String(40), nullable=False),
    Column("detail", String(300), nullable=False),
    Index("ix_activity_actor", "actor_id"),
    Index("ix_activity_subject", "subject_id"),
)

# お知らせ from agencies to one person.
notices = Table(
    "notices",
    metadata,
    Column("notice_id", Integer, primary_key=True, autoincrement=True),
    Column("resident_id", Integer, nullable=False),
    Column("sender_id", String(40), nullable=False),
    Column("sender_name", String(200), nullable=False),
    Column("title", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_notices_resident", "resident_id"),
)

# ひも付けの誤りの申し出: a link the person disputed (an agency's code, an
# insurance membership, the account), keyed by the person's resident id and
# that agency's code for them, never a number. ``opened_by`` is who clicked (the
# person, or a parent for a child); ``resolved_by`` the supervisor's staff id.
link_disputes = Table(
    "link_disputes",
    metadata,
    Column("dispute_id", Integer, primary_key=True, autoincrement=True),
    Column("resident_id", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("agency_id", String(40)),
    Column("code", String(32)),
    Column("label", String(200), nullable=False),
    Column("note", String(500), nullable=False),
    Column("state", String(10), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", Integer, nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(64)),
    Column("resolver_org", String(60)),
    Column("resolution_note", String(500)),
    Index("ix_link_disputes_resident", "resident_id"),
    Index("ix_link_disputes_state", "state"),
)
