"""pki: when a card's chip stopped matching the register

Revision ID: p003
Revises: p002

``chip_stale_since`` is set when a move or a name change leaves the four
basic items on the chip behind the register, and cleared when the counter
rewrites them; empty means the chip says what the register says.
"""

import sqlalchemy as sa
from alembic import op

revision = "p003"
down_revision = "p002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cards", sa.Column("chip_stale_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("cards", "chip_stale_since")
