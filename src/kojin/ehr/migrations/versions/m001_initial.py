"""ehr: documents, items, consents, views

Revision ID: m001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "m001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.String(32), primary_key=True),
        sa.Column("visit_id", sa.String(32), nullable=False, unique=True),
        sa.Column("clinic_id", sa.String(10), nullable=False),
        sa.Column("clinic_name", sa.String(200), nullable=False),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_consents_person", "consents", ["person_key"])
    op.create_table(
        "documents",
        sa.Column("doc_id", sa.String(32), primary_key=True),
        sa.Column("insurer_id", sa.String(40), nullable=False),
        sa.Column("member_code", sa.String(32), nullable=False),
        sa.Column("doc_type", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("doc_date", sa.Date()),
        sa.Column("clinic_id", sa.String(10), nullable=False),
        sa.Column("clinic_name", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bundle", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_documents_member", "documents", ["insurer_id", "member_code"])
    op.create_table(
        "items",
        sa.Column("item_id", sa.String(32), primary_key=True),
        sa.Column("doc_id", sa.String(32)),
        sa.Column("insurer_id", sa.String(40), nullable=False),
        sa.Column("member_code", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("resource_type", sa.String(40), nullable=False),
        sa.Column("full_url", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("recorded_on", sa.Date()),
        sa.Column("clinic_id", sa.String(10), nullable=False),
        sa.Column("clinic_name", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_items_doc", "items", ["doc_id"])
    op.create_index("ix_items_member", "items", ["insurer_id", "member_code"])
    op.create_table(
        "views",
        sa.Column(
            "view_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("visit_id", sa.String(32), nullable=False),
        sa.Column("clinic_id", sa.String(10), nullable=False),
        sa.Column("clinic_name", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leaf_index", sa.BigInteger()),
    )
    op.create_index("ix_views_person", "views", ["person_key"])


def downgrade() -> None:
    op.drop_table("views")
    op.drop_table("items")
    op.drop_table("documents")
    op.drop_table("consents")
