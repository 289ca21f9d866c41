"""staff: members, access log, bulk approvals, revoked tokens, the token key

Revision ID: s001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "s001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "staff_members",
        sa.Column("staff_id", sa.String(40), primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("org_kind", sa.String(20), nullable=False),
        sa.Column("org_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("card_serial", sa.String(40), unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "access_log",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("org_kind", sa.String(20), nullable=False),
        sa.Column("org_id", sa.String(40), nullable=False),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("what", sa.String(10), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("bulk_id", sa.Integer()),
    )
    op.create_index("ix_access_person", "access_log", ["person_key"])
    op.create_index("ix_access_staff", "access_log", ["staff_id"])
    op.create_table(
        "bulk_approvals",
        sa.Column("bulk_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("requester_id", sa.String(40), nullable=False),
        sa.Column("org_kind", sa.String(20), nullable=False),
        sa.Column("org_id", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approver_id", sa.String(40)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_bulk_requester", "bulk_approvals", ["requester_id"])
    op.create_table(
        "revoked_tokens",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revoked_tokens")
    op.drop_table("bulk_approvals")
    op.drop_table("access_log")
    op.drop_table("staff_members")
    op.drop_table("staff_keys")
