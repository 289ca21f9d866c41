"""eligibility: insurers, qualification copies, registrations, medication, check-ups, clinics, visits

Revision ID: e001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "e001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("insurer_id", sa.String(40), nullable=False),
        sa.Column("member_code", sa.String(32), nullable=False),
        sa.Column("examined_on", sa.Date(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
    )
    op.create_index("ix_checkups_member", "checkups", ["insurer_id", "member_code"])
    op.create_table(
        "clinics",
        sa.Column("clinic_id", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "insurers",
        sa.Column("insurer_id", sa.String(40), primary_key=True),
        sa.Column("insurer_number", sa.String(8), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "medications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("insurer_id", sa.String(40), nullable=False),
        sa.Column("member_code", sa.String(32), nullable=False),
        sa.Column("dispensed_on", sa.Date(), nullable=False),
        sa.Column("institution", sa.String(200), nullable=False),
        sa.Column("drug_code", sa.String(12), nullable=False),
        sa.Column("drug_name", sa.String(200), nullable=False),
        sa.Column("dose", sa.String(60), nullable=False),
        sa.Column("usage", sa.String(100), nullable=False),
        sa.Column("days", sa.SmallInteger(), nullable=False),
    )
    op.create_index("ix_medications_member", "medications", ["insurer_id", "member_code"])
    op.create_table(
        "qualifications",
        sa.Column("insurer_id", sa.String(40), primary_key=True),
        sa.Column("member_code", sa.String(32), primary_key=True),
        sa.Column("insurer_number", sa.String(8), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(2), nullable=False),
        sa.Column("family", sa.Boolean(), nullable=False),
        sa.Column("insured_name", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kana", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("postal_code", sa.String(7), nullable=False),
        sa.Column("qualified_on", sa.Date(), nullable=False),
        sa.Column("lost_on", sa.Date()),
        sa.Column("loss_reason", sa.String(2)),
        sa.Column("ratio", sa.SmallInteger(), nullable=False),
        sa.Column("card_class", sa.String(2), nullable=False),
        sa.Column("elderly", sa.Text()),
        sa.Column("certificate_from", sa.Date()),
        sa.Column("certificate_until", sa.Date()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_qualifications_card", "qualifications", ["insurer_number", "symbol", "number", "branch"])
    op.create_table(
        "registrations",
        sa.Column("insurer_id", sa.String(40), primary_key=True),
        sa.Column("member_code", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(20), nullable=False),
    )
    op.create_table(
        "service_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("key", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "visits",
        sa.Column("visit_id", sa.String(32), primary_key=True),
        sa.Column("clinic_id", sa.String(10), nullable=False),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("memberships", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_visits_person", "visits", ["person_key"])


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("service_keys")
    op.drop_table("registrations")
    op.drop_table("qualifications")
    op.drop_table("medications")
    op.drop_table("insurers")
    op.drop_table("clinics")
    op.drop_table("checkups")
