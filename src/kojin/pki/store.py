"""The CA's store (認証局のデータベース): CAs, certificates, revocations, CRLs, links.

Serial numbers are kept as lower-case hex strings: they are up to 20 octets,
more than any SQL integer type holds. Times are stored in UTC.

The 住民票コード is here because the CA is J-LIS, which holds it anyway; it is
the only personal identifier the store keeps. The four basic items of a
signature certificate exist only inside that certificate's DER.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

# A CA name (``staff-municipality-131016``) is up to 64 characters. SQLite
# keeps the 16 its tables were first made with: it enforces no VARCHAR length,
# and widening would mean rebuilding tables other tables reference (p002).
CA_NAME = String(64).with_variant(String(16), "sqlite")
KIND = String(8).with_variant(String(4), "sqlite")

# One row per CA: root, sign (署名用), auth (利用者証明用), and one staff CA
# per organisation (staff-<kind>[-<id>], made on first use).
cas = Table(
    "cas",
    metadata,
    Column("name", CA_NAME, primary_key=True),
    Column("algorithm", String(8), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("certificate", LargeBinary, nullable=False),  # DER
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Encrypted PKCS#8 private keys, when the key backend keeps them in the store
# (kojin.pki.keys.StoreKeyBlobs) rather than in files.
ca_keys = Table(
    "ca_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("pkcs8", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The passphrase for those keys when KOJIN_CA_PASSPHRASE is not set (the
# embedded demo); see kojin.pki.keys for what that does and does not protect.
ca_secrets = Table(
    "ca_secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("passphrase", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("ca", CA_NAME, ForeignKey("cas.name"), nullable=False),
    Column("kind", KIND, nullable=False),  # sign | auth | staff
    Column("subject_ref", String(32), nullable=False, unique=True),
    # The holder's 住民票コード; empty for a staff certificate, whose holder is staff_id.
    Column("juminhyo_code", String(11), nullable=False),
    Column("staff_id", String(40)),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("status", String(8), nullable=False),  # good | revoked
    Column("revoked_at", DateTime(timezone=True)),
    Column("reason", String(32)),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("der", LargeBinary, nullable=False),
    Index("ix_certificates_person", "juminhyo_code", "kind"),
)

# One row per revoked certificate: the primary key is what makes a second
# revocation of the same serial impossible even between racing writers. CRLs
# are built from this table.
revocations = Table(
    "revocations",
    metadata,
    Column("serial", String(40), ForeignKey("certificates.serial"), primary_key=True),
    Column("ca", CA_NAME, ForeignKey("cas.name"), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Index("ix_revocations_ca", "ca", "not_after"),
)

# The current CRL of each CA. Its row is locked by every revocation, which
# serialises CRL numbers per CA on PostgreSQL as SQLite's single writer does.
crls = Table(
    "crls",
    metadata,
    Column("ca", CA_NAME, ForeignKey("cas.name"), primary_key=True),
    Column("crl_number", BigInteger, nullable=False),
    Column("this_update", DateTime(timezone=True), nullable=False),
    Column("next_update", DateTime(timezone=True), nullable=False),
    Column("der", LargeBinary, nullable=False),
)

# J-LIS serial linkage (シリアル番号の紐付け): old → new on reissue.
serial_links = Table(
    "serial_links",
    metadata,
    Column("old_serial", String(40), ForeignKey("certificates.serial"), primary_key=True),
    Column("new_serial", String(40), ForeignKey("certificates.serial"), nullable=False, unique=True),
    Column("linked_at", DateTime(timezone=True), nullable=False),
)

# Cards J-LIS has issued (個人番号カードの発行記録).
cards = Table(
    "cards",
    metadata,
    Column("card_id", String(64), primary_key=True),
    Column("juminhyo_code", String(11), nullable=False),
    # active | to_return (number changed: the card must go back) | lost | revoked | replaced
    Column("status", String(10), nullable=False),
    Column("algorithm", String(8), nullable=False),
    Column("auth_serial", String(40), nullable=False),
    Column("sign_serial", String(40)),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("status_changed_at", DateTime(timezone=True)),
    # p003: set while the chip's four basic items lag behind the register.
    Column("chip_stale_since", DateTime(timezone=True)),
    Index("ix_cards_code", "juminhyo_code"),
    Index("ix_cards_auth_serial", "auth_serial", unique=True),
)

# Every counter-side PIN reset, with who did it (暗証番号の初期化記録).
pin_resets = Table(
    "pin_resets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("card_id", String(64), ForeignKey("cards.card_id"), nullable=False),
    Column("pin", String(12), nullable=False),
    Column("reset_at", DateTime(timezone=True), nullable=False),
    Column("reset_by", String(100), nullable=False),
)

# Relying parties registered with J-LIS (署名検証者・利用者証明検証者). Only these
# may turn a certificate serial into a person; private ones get pseudonyms.
relying_parties = Table(
    "relying_parties",
    metadata,
    Column("rp_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(8), nullable=False),  # public | private
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

linkage_keys = Table(
    "linkage_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
