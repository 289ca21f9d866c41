"""pki: CAs, keys, certificates, revocations, CRLs, serial links, cards, PIN resets

Revision ID: p001
Revises:

The schema exactly as it shipped: later revisions change it with op.* calls,
and ``store.py`` describes the newest schema, so this file must not follow it.
"""

import sqlalchemy as sa
from alembic import op

revision = "p001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ca_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("pkcs8", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ca_secrets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("passphrase", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "cards",
        sa.Column("card_id", sa.String(64), primary_key=True),
        sa.Column("juminhyo_code", sa.String(11), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("auth_serial", sa.String(40), nullable=False),
        sa.Column("sign_serial", sa.String(40)),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_cards_auth_serial", "cards", ["auth_serial"], unique=True)
    op.create_index("ix_cards_code", "cards", ["juminhyo_code"])
    op.create_table(
        "cas",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "linkage_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "relying_parties",
        sa.Column("rp_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("ca", sa.String(16), sa.ForeignKey("cas.name"), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("subject_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("juminhyo_code", sa.String(11), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.String(32)),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_certificates_person", "certificates", ["juminhyo_code", "kind"])
    op.create_table(
        "crls",
        sa.Column("ca", sa.String(16), sa.ForeignKey("cas.name"), primary_key=True),
        sa.Column("crl_number", sa.BigInteger(), nullable=False),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "pin_resets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("card_id", sa.String(64), sa.ForeignKey("cards.card_id"), nullable=False),
        sa.Column("pin", sa.String(12), nullable=False),
        sa.Column("reset_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reset_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "revocations",
        sa.Column("serial", sa.String(40), sa.ForeignKey("certificates.serial"), primary_key=True),
        sa.Column("ca", sa.String(16), sa.ForeignKey("cas.name"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revocations_ca", "revocations", ["ca", "not_after"])
    op.create_table(
        "serial_links",
        sa.Column("old_serial", sa.String(40), sa.ForeignKey("certificates.serial"), primary_key=True),
        sa.Column("new_serial", sa.String(40), sa.ForeignKey("certificates.serial"), nullable=False, unique=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("serial_links")
    op.drop_table("revocations")
    op.drop_table("pin_resets")
    op.drop_table("crls")
    op.drop_table("certificates")
    op.drop_table("relying_parties")
    op.drop_table("linkage_keys")
    op.drop_table("cas")
    op.drop_table("cards")
    op.drop_table("ca_secrets")
    op.drop_table("ca_keys")
