"""portal: sessions, public-funds accounts, proxies, activity log, notices

Revision ID: m001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "m001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
    )
    op.create_index("ix_activity_actor", "activity", ["actor_id"])
    op.create_index("ix_activity_subject", "activity", ["subject_id"])
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(40), nullable=False),
        sa.Column("sender_name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_notices_resident", "notices", ["resident_id"])
    op.create_table(
        "proxies",
        sa.Column("proxy_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("proxy_resident_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_proxies_principal", "proxies", ["principal_id"])
    op.create_index("ix_proxies_proxy", "proxies", ["proxy_resident_id"])
    op.create_table(
        "proxy_invitations",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_invitations_principal", "proxy_invitations", ["principal_id"])
    op.create_table(
        "public_funds_accounts",
        sa.Column("account_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("bank_code", sa.String(4), nullable=False),
        sa.Column("branch_code", sa.String(3), nullable=False),
        sa.Column("account_type", sa.String(10), nullable=False),
        sa.Column("account_number", sa.String(7), nullable=False),
        sa.Column("holder_kana", sa.String(100), nullable=False),
        sa.Column("account_key", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(300)),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_accounts_key", "public_funds_accounts", ["account_key"])
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("handle_key", sa.LargeBinary(32), nullable=False),
        sa.Column("challenge", sa.String(300)),
        sa.Column("card_id", sa.String(64)),
        sa.Column("auth_serial", sa.String(40)),
        sa.Column("insertion_id", sa.String(64)),
        sa.Column("resident_id", sa.Integer()),
        sa.Column("acting_for", sa.Integer()),
        sa.Column("acting_kind", sa.String(10)),
        sa.Column("proxy_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sessions_card", "sessions", ["card_id"])
    op.create_index("ix_sessions_insertion", "sessions", ["insertion_id"])
    op.create_index("ix_sessions_seen", "sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("public_funds_accounts")
    op.drop_table("proxy_invitations")
    op.drop_table("proxies")
    op.drop_table("notices")
    op.drop_table("activity")
