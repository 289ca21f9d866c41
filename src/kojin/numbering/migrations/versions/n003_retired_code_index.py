"""numbering: one random-keyed index on 住民票コード instead of two

Revision ID: n003
Revises: n002

Every code J-LIS has numbered has exactly one active number (a number change
retires the old number and issues the new one in one transaction), so the
partial unique index over active numbers already covers every code ever
numbered. The full index on the code duplicated it and cost a random B-tree
insert per number at enrolment; retired numbers, which are rare, get a small
partial index of their own for the number history.
"""

import sqlalchemy as sa
from alembic import op

revision = "n003"
down_revision = "n002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_numbers_code", table_name="numbers")
    op.create_index(
        "ix_numbers_retired_code",
        "numbers",
        ["juminhyo_code"],
        sqlite_where=sa.text("status = 'retired'"),
        postgresql_where=sa.text("status = 'retired'"),
    )


def downgrade() -> None:
    op.drop_index("ix_numbers_retired_code", table_name="numbers")
    op.create_index("ix_numbers_code", "numbers", ["juminhyo_code"])
