"""The eligibility service's store (オンライン資格確認等システムのデータストア).

It holds insurers' qualification copies, medication and check-up copies, card
registrations and clinic visits — every person keyed by an insurer's own code
(機関別符号) or by the service's own pseudonym, never by a number or a
住民票コード.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The service's own secret: the pseudonym it keeps consents and views under.
service_keys = Table(
    "service_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("key", LargeBinary(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

insurers = Table(
    "insurers",
    metadata,
    Column("insurer_id", String(40), primary_key=True),  # its agency id at the hub
    Column("insurer_number", String(8), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# Qualification copies (資格情報), one per membership, replaced on update.
qualifications = Table(
    "qualifications",
    metadata,
    Column("insurer_id", String(40), primary_key=True),
    Column("member_code", String(32), primary_key=True),
    Column("insurer_number", String(8), nullable=False),
    Column("symbol", String(20), nullable=False),
    Column("number", String(20), nullable=False),
    Column("branch", String(2), nullable=False),
    Column("family", Boolean, nullable=False),
    Column("insured_name", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kana", String(100), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("address", String(300), nullable=False),
    Column("postal_code", String(7), nullable=False),
    Column("qualified_on", Date, nullable=False),
    Column("lost_on", Date),
    Column("loss_reason", String(2)),
    Column("ratio", SmallInteger, nullable=False),
    Column("card_class", String(2), nullable=False),
    Column("elderly", Text),  # JSON of the 高齢受給者証, or NULL
    Column("certificate_from", Date),
    Column("certificate_until", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_qualifications_card", "insurer_number", "symbol", "number", "branch"),
)

# 健康保険証利用登録: whether the member's card may be used as the insurance card.
registrations = Table(
    "registrations",
    metadata,
    Column("insurer_id", String(40), primary_key=True),
    Column("member_code", String(32), primary_key=True),
    Column("status", String(12), nullable=False),  # registered | cancelled
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(20), nullable=False),  # card | portal | insurer | seed
)

# 薬剤情報: what was dispensed, from claims (レセプト) the insurers passed on.
medications = Table(
    "medications",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("insurer_id", String(40), nullable=False),
    Column("member_code", String(32), nullable=False),
    Column("dispensed_on", Date, nullable=False),
    Column("institution", String(200), nullable=False),
    Column("drug_code", String(12), nullable=False),  # 薬価基準収載医薬品コード
    Column("drug_name", String(200), nullable=False),
    Column("dose", String(60), nullable=False),
    Column("usage", String(100), nullable=False),
    Column("days", SmallInteger, nullable=False),
    Index("ix_medications_member", "insurer_id", "member_code"),
)

# 特定健診情報: check-up results (JSON of the measured items).
checkups = Table(
    "checkups",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("insurer_id", String(40), nullable=False),
    Column("member_code", String(32), nullable=False),
    Column("examined_on", Date, nullable=False),
    Column("results", Text, nullable=False),
    Index("ix_checkups_member", "insurer_id", "member_code"),
)

# Medical institutions and pharmacies using the service, with their key's hash.
clinics = Table(
    "clinics",
    metadata,
    Column("clinic_id", String(10), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# A visit (受診): opened by a card check at one clinic. Consent may be given
# only while ``consent_until`` lies ahead; everything ends at ``expires_at``.
visits = Table(
    "visits",
    metadata,
    Column("visit_id", String(32), primary_key=True),
    Column("clinic_id", String(10), nullable=False),
    Column("person_key", String(64), nullable=False),
    Column("memberships", Text, nullable=False),  # JSON [[insurer_id, member_code], …]
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("consent_until", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_visits_person", "person_key"),
)
