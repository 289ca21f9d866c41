"""auth: used challenges found by expiry, so spent ones can be forgotten

Revision ID: u002
Revises: u001

A challenge past its expiry is refused before the store is asked, so its
nonce need not be kept; this index lets the writer delete those rows a chunk at
a time. Expiries grow with time, so new rows land at the index's end.
"""

from alembic import op

revision = "u002"
down_revision = "u001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_used_challenges_expires", "used_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_challenges_expires", table_name="used_challenges")
