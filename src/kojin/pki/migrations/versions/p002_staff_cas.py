"""pki: staff CAs per organisation and their staff certificates

Revision ID: p002
Revises: p001

A staff CA's name (``staff-municipality-131016``) is longer than the 16
characters a CA name had, and ``staff`` longer than the 4 a kind had; a staff
certificate names its holder by staff id (its 住民票コード column stays empty).
SQLite does not enforce VARCHAR lengths, so only the other databases alter
the columns (SQLite could not without rebuilding the referenced tables).
"""

import sqlalchemy as sa
from alembic import op

revision = "p002"
down_revision = "p001"
branch_labels = None
depends_on = None

_CA_COLUMNS = (("cas", "name"), ("certificates", "ca"), ("revocations", "ca"), ("crls", "ca"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table, column in _CA_COLUMNS:
            op.alter_column(table, column, type_=sa.String(64), existing_type=sa.String(16))
        op.alter_column("certificates", "kind", type_=sa.String(8), existing_type=sa.String(4))
    op.add_column("certificates", sa.Column("staff_id", sa.String(40)))


def downgrade() -> None:
    op.drop_column("certificates", "staff_id")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("certificates", "kind", type_=sa.String(4), existing_type=sa.String(8))
        for table, column in _CA_COLUMNS:
            op.alter_column(table, column, type_=sa.String(16), existing_type=sa.String(64))
