"""Reason codes of ehr: 電子カルテ情報共有 (e-health records and consents).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted

TABLE = Table("ehr", "電子カルテ情報共有 (e-health records and consents)", prefixes=("ehr",))


BAD_SCOPE = TABLE.reason(
    "ehr.bad_scope",
    InvalidInput,
    "同意の範囲「{given}」は不明です。範囲は medication, checkups, ehr のリストで指定します。",
    "Unknown scope {given!r}; scopes are a list of medication, checkups, ehr.",
    field="scopes",
)

CONSENT_EXPIRED = TABLE.reason(
    "ehr.consent_expired",
    NotPermitted,
    "同意の有効期間（24時間）が過ぎました。",
    "The consent has expired (24 hours).",
    field="visit_id",
)

CONSENT_GIVEN = TABLE.reason(
    "ehr.consent_given",
    Conflict,
    "この受診の同意は既に記録されています。",
    "Consent for this visit was already recorded.",
    field="visit_id",
)

CONSENT_MISSING = TABLE.reason(
    "ehr.consent_missing",
    NotPermitted,
    "この受診では閲覧の同意がありません。",
    "No consent was given at this visit.",
    field="visit_id",
)

CONSENT_NOT_COVERING = TABLE.reason(
    "ehr.consent_not_covering",
    NotPermitted,
    "患者さんはこの受診で{label_ja}の閲覧に同意していません。",
    "The patient did not consent to showing {label_en} at this visit.",
    field="scope",
)

CONSENT_WINDOW_CLOSED = TABLE.reason(
    "ehr.consent_window_closed",
    Conflict,
    "同意はカードで本人確認した直後（5分以内）に端末で行います。もう一度カードで確認してください。",
    "Consent is given on the terminal within 5 minutes of the card check; check the card again.",
    field="visit_id",
)

CONSENT_WITHDRAWN = TABLE.reason(
    "ehr.consent_withdrawn",
    NotPermitted,
    "この同意は撤回されています。",
    "This consent has been withdrawn.",
    field="visit_id",
)

FHIR_INVALID = TABLE.reason(
    "ehr.fhir_invalid",
    InvalidInput,
    "FHIR リソースが正しくありません: {detail_ja}",
    "Invalid FHIR resource: {detail_en}",
    field="resource",
)

NOT_A_DOCUMENT = TABLE.reason(
    "ehr.not_a_document",
    InvalidInput,
    "文書は type が document で、最初のエントリが Composition の Bundle です。",
    "A document is a Bundle of type document whose first entry is its Composition.",
    field="bundle.type",
)

TOO_LARGE = TABLE.reason(
    "ehr.too_large",
    InvalidInput,
    "1 MiB を超えています。",
    "Larger than 1 MiB.",
)

UNKNOWN_CONSENT = TABLE.reason(
    "ehr.unknown_consent",
    NotFound,
    "その同意はありません。",
    "No such consent.",
    field="consent_id",
)

UNKNOWN_DOCUMENT_TYPE = TABLE.reason(
    "ehr.unknown_document_type",
    InvalidInput,
    "文書の種類（Composition.type の LOINC）が3文書（53576-5, 57133-1, 18842-5）のいずれでもありません。",
    "Composition.type is not one of the three documents (LOINC 53576-5, 57133-1, 18842-5).",
    field="bundle.entry.0.resource.type",
)

UNKNOWN_RECORD = TABLE.reason(
    "ehr.unknown_record",
    NotFound,
    "その記録はありません。",
    "No such record.",
    field="record",
)

UNSUPPORTED_RESOURCE = TABLE.reason(
    "ehr.unsupported_resource",
    InvalidInput,
    "{where_ja}「{resource_type}」はここでは使えません（6情報は Condition, Observation, AllergyIntolerance, "
    "MedicationRequest）。",
    "{where_en}{resource_type!r} cannot be used here (the six items are Condition, Observation, AllergyIntolerance,"
    " MedicationRequest).",
    field="resource",
)
