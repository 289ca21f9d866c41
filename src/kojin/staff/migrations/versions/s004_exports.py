"""staff: export recipients; a bulk request's export (rows, file, hash) recorded after approval

Revision ID: s004
Revises: s003

A bulk request no longer carries the file's hash up front (the file is written
only after the approval): the hash becomes the export's, with its row count,
file name and time.
"""

import sqlalchemy as sa
from alembic import op

revision = "s004"
down_revision = "s003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_approvals") as batch:
        batch.alter_column("content_hash", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("exported_rows", sa.Integer()))
        batch.add_column(sa.Column("file_name", sa.String(100)))
        batch.add_column(sa.Column("exported_at", sa.DateTime(timezone=True)))
    op.create_table(
        "staff_recipients",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("registered_by", sa.String(40), nullable=False),
        sa.Column("org", sa.String(60), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_recipients")
    # Requests made without a hash up front get an empty one back.
    op.execute("UPDATE bulk_approvals SET content_hash = '' WHERE content_hash IS NULL")
    with op.batch_alter_table("bulk_approvals") as batch:
        batch.drop_column("exported_at")
        batch.drop_column("file_name")
        batch.drop_column("exported_rows")
        batch.alter_column("content_hash", existing_type=sa.String(64), nullable=False)
