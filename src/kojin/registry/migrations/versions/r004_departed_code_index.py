"""registry: find the last record of a 住民票コード that has left

Revision ID: r004
Revises: r003

A move-in names the person's 住民票コード, and the register compares the
person with that code's last record, which is a moved-out (or deceased) one.
The index holds only those rows: bulk enrolment writes current residents
alone, so it never touches it.
"""

import sqlalchemy as sa
from alembic import op

revision = "r004"
down_revision = "r003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_residents_departed_code",
        "residents",
        ["juminhyo_code"],
        sqlite_where=sa.text("status != 'resident'"),
        postgresql_where=sa.text("status != 'resident'"),
    )


def downgrade() -> None:
    op.drop_index("ix_residents_departed_code", table_name="residents")
