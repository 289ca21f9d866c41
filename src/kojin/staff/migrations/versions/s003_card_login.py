"""staff: web sessions and the single use of card-login challenges

Revision ID: s003
Revises: s002
"""

import sqlalchemy as sa
from alembic import op

revision = "s003"
down_revision = "s002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False, unique=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("challenge", sa.String(300)),
        sa.Column("staff_id", sa.String(40)),
        sa.Column("card_serial", sa.String(40)),
        sa.Column("insertion_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_staff_sessions_insertion", "staff_sessions", ["insertion_id"])
    op.create_index("ix_staff_sessions_staff", "staff_sessions", ["staff_id"])
    op.create_table(
        "staff_used_challenges",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("staff_id", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_staff_used_challenges_expiry", "staff_used_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_table("staff_used_challenges")
    op.drop_table("staff_sessions")
