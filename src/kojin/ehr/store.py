"""The e-health record service's store (電子カルテ情報共有サービスのデータストア).

Documents and items are kept under the insurer's code of the patient's
membership, consents and views under the eligibility service's pseudonym:
never a number or a 住民票コード.
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
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# 3文書 as submitted (the FHIR Bundle, canonical JSON).
documents = Table(
    "documents",
    metadata,
    Column("doc_id", String(32), primary_key=True),
    Column("insurer_id", String(40), nullable=False),
    Column("member_code", String(32), nullable=False),
    Column("doc_type", String(10), nullable=False),
    Column("title", String(200), nullable=False),
    Column("doc_date", Date),
    Column("clinic_id", String(10), nullable=False),
    Column("clinic_name", String(200), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("bundle", Text, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Index("ix_documents_member", "insurer_id", "member_code"),
)

# 6情報: every item, whether it came inside a document or on its own.
items = Table(
    "items",
    metadata,
    Column("item_id", String(32), primary_key=True),
    Column("doc_id", String(32)),
    Column("insurer_id", String(40), nullable=False),
    Column("member_code", String(32), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("resource_type", String(40), nullable=False),
    Column("full_url", String(200), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("recorded_on", Date),
    Column("clinic_id", String(10), nullable=False),
    Column("clinic_name", String(200), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("resource", Text, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Index("ix_items_member", "insurer_id", "member_code"),
    Index("ix_items_doc", "doc_id"),
)

# Consent given on the terminal at one visit (同意), for one clinic, until it ends.
consents = Table(
    "consents",
    metadata,
    Column("consent_id", String(32), primary_key=True),
    Column("visit_id", String(32), nullable=False, unique=True),
    Column("clinic_id", String(10), nullable=False),
    Column("clinic_name", String(200), nullable=False),
    Column("person_key", String(64), nullable=False),
    Column("scopes", String(100), nullable=False),  # comma-separated; empty: nothing
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Index("ix_consents_person", "person_key"),
)

# Who viewed what (閲覧履歴), each with the exchange-log leaf that proves it.
views = Table(
    "views",
    metadata,
    Column("view_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("person_key", String(64), nullable=False),
    Column("visit_id", String(32), nullable=False),
    Column("clinic_id", String(10), nullable=False),
    Column("clinic_name", String(200), nullable=False),
    Column("scope", String(20), nullable=False),
    Column("detail", String(300), nullable=False),
    Column("viewed_at", DateTime(timezone=True), nullable=False),
    Column("leaf_index", BigInteger),
    Index("ix_views_person", "person_key"),
)
