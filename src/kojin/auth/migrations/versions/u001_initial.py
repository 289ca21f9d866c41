"""auth: challenge key and used challenges

Revision ID: u001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "u001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challenge_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "used_challenges",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("rp_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("used_challenges")
    op.drop_table("challenge_keys")
