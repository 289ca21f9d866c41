"""registry: how far each named bulk-enrolment job got

Revision ID: r003
Revises: r002

A seed run records the households and people it has enrolled in each batch's
own transaction, so a run killed half-way resumes where the register stopped.
"""

import sqlalchemy as sa
from alembic import op

revision = "r003"
down_revision = "r002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolment_runs",
        sa.Column("run", sa.String(80), primary_key=True),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("enrolment_runs")
