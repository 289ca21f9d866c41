"""staff: refused attempts; each access-log entry's reference to its leaf; CLI operators' keys

Revision ID: s002
Revises: s001
"""

import sqlalchemy as sa
from alembic import op

revision = "s002"
down_revision = "s001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("entry_ref", sa.String(32)))
        batch.add_column(sa.Column("via", sa.String(80)))
        batch.create_unique_constraint("uq_access_entry_ref", ["entry_ref"])
    op.create_table(
        "staff_refusals",
        sa.Column("refusal_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(40)),
        sa.Column("role", sa.String(20)),
        sa.Column("org", sa.String(60)),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
    )
    op.create_index("ix_refusal_staff", "staff_refusals", ["staff_id"])
    op.create_table(
        "staff_operator_keys",
        sa.Column("staff_id", sa.String(40), primary_key=True),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_operator_keys")
    op.drop_index("ix_refusal_staff", "staff_refusals")
    op.drop_table("staff_refusals")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_constraint("uq_access_entry_ref", type_="unique")
        batch.drop_column("entry_ref")
        batch.drop_column("via")
