"""numbering: the link-id key of the 取得番号 flow (機関別符号の取得)

Revision ID: n002
Revises: n001
"""

import sqlalchemy as sa
from alembic import op

revision = "n002"
down_revision = "n001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("key", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("link_keys")
