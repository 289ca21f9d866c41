"""registry: find people by birth date, not by kana and birth date

Revision ID: r002
Revises: r001

The duplicate-registration check and the clerk's search both name a birth
date; about one resident in 36,500 shares it (30 at a million), so an index on
the birth date alone finds them as fast. Its entries are less than half the
size of (kana, birth date) ones, and a random-keyed index of half the size is
what keeps bulk enrolment's cost per resident flat at a million.
"""

from alembic import op

revision = "r002"
down_revision = "r001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_residents_kana_birth", table_name="residents")
    op.create_index("ix_residents_birth_date", "residents", ["birth_date"])


def downgrade() -> None:
    op.drop_index("ix_residents_birth_date", table_name="residents")
    op.create_index("ix_residents_kana_birth", "residents", ["kana", "birth_date"])
