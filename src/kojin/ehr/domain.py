"""電子カルテ情報共有 (e-health record sharing): 3 documents, 6 items as FHIR R4, and consent rules. Pure.

Documents are FHIR ``Bundle``s of type ``document`` whose first entry is a
``Composition`` typed by LOINC:

* 健康診断結果報告書 (check-up report) — ``53576-5``
* 診療情報提供書 (referral letter) — ``57133-1``
* 退院時サマリー (discharge summary) — ``18842-5``

The six items are resources: 傷病名 ``Condition``; 感染症 and 検査
``Observation``; 薬剤禁忌 and アレルギー ``AllergyIntolerance``; 処方
``MedicationRequest``. Where one resource type carries two items, kojin tells
them apart by a ``meta.tag`` in its own code system (:data:`ITEM_TAG_SYSTEM`),
defaulting to 検査 and アレルギー; JP-CLINS does it with profiles.

Everything is validated with ``fhir.resources`` (its R4B models, the closest
it ships to R4) before kojin's own rules are applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from kojin.core.errors import InvalidInput, KojinError
from kojin.ehr import reasons

ITEM_TAG_SYSTEM = "urn:kojin:fhir:ehr-item"
LOINC = "http://loinc.org"
MAX_BUNDLE_BYTES = 1024 * 1024


class ItemKind(StrEnum):
    """The six items (6情報)."""

    CONDITION = "condition"  # 傷病名
    INFECTION = "infection"  # 感染症
    CONTRAINDICATION = "contraindication"  # 薬剤禁忌
    ALLERGY = "allergy"  # アレルギー
    LAB = "lab"  # 検査
    PRESCRIPTION = "prescription"  # 処方


ITEM_LABELS: dict[ItemKind, tuple[str, str]] = {
    ItemKind.CONDITION: ("傷病名", "diagnosis"),
    ItemKind.INFECTION: ("感染症", "infection"),
    ItemKind.CONTRAINDICATION: ("薬剤禁忌", "drug contraindication"),
    ItemKind.ALLERGY: ("アレルギー", "allergy"),
    ItemKind.LAB: ("検査", "laboratory result"),
    ItemKind.PRESCRIPTION: ("処方", "prescription"),
}

RESOURCE_OF: dict[ItemKind, str] = {
    ItemKind.CONDITION: "Condition",
    ItemKind.INFECTION: "Observation",
    ItemKind.CONTRAINDICATION: "AllergyIntolerance",
    ItemKind.ALLERGY: "AllergyIntolerance",
    ItemKind.LAB: "Observation",
    ItemKind.PRESCRIPTION: "MedicationRequest",
}
_DEFAULT_KIND = {
    "Condition": ItemKind.CONDITION,
    "Observation": ItemKind.LAB,
    "AllergyIntolerance": ItemKind.ALLERGY,
    "MedicationRequest": ItemKind.PRESCRIPTION,
}


class DocumentType(StrEnum):
    """The three documents (3文書), by their LOINC code."""

    CHECKUP = "53576-5"  # 健康診断結果報告書
    REFERRAL = "57133-1"  # 診療情報提供書
    DISCHARGE = "18842-5"  # 退院時サマリー


DOCUMENT_LABELS: dict[DocumentType, tuple[str, str]] = {
    DocumentType.CHECKUP: ("健康診断結果報告書", "check-up report"),
    DocumentType.REFERRAL: ("診療情報提供書", "referral letter"),
    DocumentType.DISCHARGE: ("退院時サマリー", "discharge summary"),
}

# Other resources a document may carry around its items.
CONTEXT_RESOURCES = frozenset(
    {
        "Composition",
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Encounter",
        "Medication",
        "Specimen",
        "DocumentReference",
        "Binary",
    }
)


class Scope(StrEnum):
    """What a patient may let a clinic see at one visit (同意の範囲)."""

    MEDICATION = "medication"  # 薬剤情報
    CHECKUPS = "checkups"  # 特定健診等情報
    EHR = "ehr"  # 電子カルテ情報（3文書6情報）


SCOPE_LABELS: dict[Scope, tuple[str, str]] = {
    Scope.MEDICATION: ("薬剤情報", "medication history"),
    Scope.CHECKUPS: ("特定健診等情報", "check-up results"),
    Scope.EHR: ("電子カルテ情報（3文書6情報）", "e-health records (3 documents, 6 items)"),
}


def parse_scopes(values: object) -> tuple[Scope, ...]:
    """The scopes chosen on the terminal; an empty list means "nothing" (何も見せない)."""
    if not isinstance(values, list | tuple):
        raise reasons.BAD_SCOPE.error(given=values)
    out: list[Scope] = []
    for v in values:
        try:
            scope = Scope(v)
        except ValueError:
            raise reasons.BAD_SCOPE.error(given=v) from None
        if scope not in out:
            out.append(scope)
    return tuple(out)


def not_consented(scope: Scope) -> KojinError:
    label_ja, label_en = SCOPE_LABELS[scope]
    return reasons.CONSENT_NOT_COVERING.error(label_ja=label_ja, label_en=label_en)


# -- FHIR parsing --------------------------------------------------------------------------------


def _fhir_invalid(detail_ja: str, detail_en: str, field: str = "resource") -> InvalidInput:
    return reasons.FHIR_INVALID.error(detail_ja=detail_ja, detail_en=detail_en, field=field)


_TIME_NAMES = frozenset({"date", "issued", "timestamp", "authoredOn", "recordedDate", "lastOccurrence", "birthDate"})


def _times_are_strings(value: Any, path: str, field: str) -> None:
    # FHIR JSON carries dates and times as strings; the models would read a
    # bare number as a Unix time, which no clinic system means.
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            timed = key in _TIME_NAMES or key.endswith(("DateTime", "Date", "Instant"))
            if timed and not isinstance(inner, str | dict | list):
                raise _fhir_invalid(
                    f"{where}: 日付・時刻は文字列です。", f"{where}: dates and times are strings.", field
                )
            _times_are_strings(inner, where, field)
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            _times_are_strings(inner, f"{path}.{n}", field)


def _validate(resource_type: str, data: dict[str, Any], field: str) -> Any:
    from pydantic import ValidationError

    _times_are_strings(data, "", field)
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        raise _fhir_invalid(
            f"resourceType「{resource_type}」は FHIR にありません。",
            f"resourceType {resource_type!r} is not a FHIR resource.",
            field,
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or resource_type
        msg = str(first.get("msg", "invalid"))
        raise _fhir_invalid(f"{where}: {msg}", f"{where}: {msg}", field) from None


def _text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    return ""


def summarise(resource: dict[str, Any]) -> str:
    """One line a clinic or the patient reads for an item."""
    kind = resource.get("resourceType")
    if kind == "Condition":
        text = _text(resource.get("code"))
        onset = resource.get("onsetDateTime") or resource.get("recordedDate") or ""
        return f"{text}（{str(onset)[:10]}〜）" if onset else text
    if kind == "Observation":
        text = _text(resource.get("code"))
        value = ""
        if isinstance(resource.get("valueQuantity"), dict):
            q = resource["valueQuantity"]
            value = f"{q.get('value', '')} {q.get('unit', '')}".strip()
        elif resource.get("valueString"):
            value = str(resource["valueString"])
        elif resource.get("valueCodeableConcept"):
            value = _text(resource["valueCodeableConcept"])
        when = str(resource.get("effectiveDateTime") or "")[:10]
        return " ".join(p for p in (text, value, f"({when})" if when else "") if p)
    if kind == "AllergyIntolerance":
        text = _text(resource.get("code"))
        reactions = [
            _text(m)
            for r in resource.get("reaction") or []
            if isinstance(r, dict)
            for m in r.get("manifestation") or []
        ]
        return f"{text}：{'、'.join(r for r in reactions if r)}" if any(reactions) else text
    if kind == "MedicationRequest":
        text = _text(resource.get("medicationCodeableConcept"))
        dosage = resource.get("dosageInstruction") or []
        how = dosage[0].get("text", "") if dosage and isinstance(dosage[0], dict) else ""
        return f"{text} {how}".strip()
    return str(kind)


def _recorded_on(resource: dict[str, Any]) -> date | None:
    for name in ("recordedDate", "onsetDateTime", "effectiveDateTime", "authoredOn", "issued"):
        value = resource.get(name)
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def item_kind(resource: dict[str, Any]) -> ItemKind:
    resource_type = str(resource.get("resourceType"))
    tags = (resource.get("meta") or {}).get("tag") or []
    for tag in tags:
        if isinstance(tag, dict) and tag.get("system") == ITEM_TAG_SYSTEM:
            try:
                kind = ItemKind(str(tag.get("code")))
            except ValueError:
                raise _fhir_invalid(
                    f"meta.tag の項目「{tag.get('code')}」は6情報にありません。",
                    f"meta.tag item {tag.get('code')!r} is not one of the six items.",
                ) from None
            if RESOURCE_OF[kind] != resource_type:
                raise _fhir_invalid(
                    f"{ITEM_LABELS[kind][0]}は {RESOURCE_OF[kind]} で表します。",
                    f"{kind.value} is a {RESOURCE_OF[kind]}, not a {resource_type}.",
                )
            return kind
    return _DEFAULT_KIND[resource_type]


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One of the six items, checked."""

    kind: ItemKind
    resource_type: str
    full_url: str
    summary: str
    recorded_on: date | None
    resource: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """One of the three documents, checked, with the items it carries."""

    doc_type: DocumentType
    title: str
    doc_date: date | None
    items: tuple[ParsedItem, ...]
    bundle: dict[str, Any]


def _as_object(data: object, field: str) -> dict[str, Any]:
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError:
            raise _fhir_invalid("JSON ではありません。", "not JSON.", field) from None
    if not isinstance(data, dict):
        raise _fhir_invalid("JSON オブジェクトではありません。", "not a JSON object.", field)
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_BUNDLE_BYTES:
        raise reasons.TOO_LARGE.error(field=field)
    return data


def parse_item(data: object) -> ParsedItem:
    """A single item (one of the six) submitted on its own."""
    resource = _as_object(data, "resource")
    resource_type = resource.get("resourceType")
    if resource_type not in _DEFAULT_KIND:
        raise reasons.UNSUPPORTED_RESOURCE.error(where_ja="", resource_type=resource_type, where_en="")
    _validate(str(resource_type), resource, "resource")
    kind = item_kind(resource)
    return ParsedItem(
        kind, str(resource_type), str(resource.get("id") or ""), summarise(resource), _recorded_on(resource), resource
    )


def parse_document(data: object) -> ParsedDocument:
    """A document Bundle: validated whole, then kojin's rules for the three documents."""
    bundle = _as_object(data, "bundle")
    if bundle.get("resourceType") != "Bundle":
        raise _fhir_invalid("文書は Bundle です。", "a document is a Bundle.", "bundle")
    _validate("Bundle", bundle, "bundle")
    if bundle.get("type") != "document":
        raise reasons.NOT_A_DOCUMENT.error()
    entries = bundle.get("entry") or []
    first = entries[0].get("resource") if entries and isinstance(entries[0], dict) else None
    if not isinstance(first, dict) or first.get("resourceType") != "Composition":
        raise reasons.NOT_A_DOCUMENT.error(field="bundle.entry")
    codes = [
        c.get("code")
        for c in (first.get("type") or {}).get("coding") or []
        if isinstance(c, dict) and c.get("system") == LOINC
    ]
    doc_type = next((DocumentType(str(c)) for c in codes if c in DocumentType._value2member_map_), None)
    if doc_type is None:
        raise reasons.UNKNOWN_DOCUMENT_TYPE.error()
    items: list[ParsedItem] = []
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise _fhir_invalid(f"entry {n} にリソースがありません。", f"entry {n} has no resource.", "bundle.entry")
        resource_type = str(resource.get("resourceType"))
        full_url = entry.get("fullUrl")
        if not isinstance(full_url, str) or not full_url:
            raise _fhir_invalid(
                f"entry {n} に fullUrl がありません（文書では必須）。",
                f"entry {n} has no fullUrl (required in a document).",
                "bundle.entry",
            )
        if resource_type in _DEFAULT_KIND:
            kind = item_kind(resource)
            items.append(
                ParsedItem(kind, resource_type, full_url, summarise(resource), _recorded_on(resource), resource)
            )
        elif resource_type not in CONTEXT_RESOURCES:
            raise reasons.UNSUPPORTED_RESOURCE.error(
                where_ja=f"entry {n} の", resource_type=resource_type, where_en=f"entry {n}: ", field="bundle.entry"
            )
    doc_date = None
    if isinstance(first.get("date"), str):
        try:
            doc_date = date.fromisoformat(first["date"][:10])
        except ValueError:
            doc_date = None
    title = str(first.get("title") or DOCUMENT_LABELS[doc_type][0])
    return ParsedDocument(doc_type, title, doc_date, tuple(items), bundle)


def without(bundle: dict[str, Any], hidden_urls: set[str]) -> dict[str, Any]:
    """The bundle as shared: entries the patient hid are left out, with references to them."""
    if not hidden_urls:
        return bundle
    out: dict[str, Any] = json.loads(json.dumps(bundle))
    out["entry"] = [e for e in out.get("entry") or [] if str(e.get("fullUrl") or "") not in hidden_urls]
    composition = out["entry"][0]["resource"] if out["entry"] else {}
    for section in composition.get("section") or []:
        section["entry"] = [r for r in section.get("entry") or [] if r.get("reference") not in hidden_urls]
        if not section["entry"]:
            section.pop("entry")
            section["emptyReason"] = {"text": "患者の希望により共有しません（patient withheld）"}
    return out
