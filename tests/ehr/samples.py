"""FHIR R4 samples of the three documents and six items (as a clinic's software would send)."""

from __future__ import annotations

import copy
from typing import Any

from kojin.ehr.domain import ITEM_TAG_SYSTEM

LOINC = "http://loinc.org"


def condition(text: str = "本態性高血圧症", code: str = "8833421") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "cond1",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": [{"system": "urn:oid:1.2.392.200119.4.101.6", "code": code, "display": text}], "text": text},
        "subject": {"reference": "urn:uuid:patient"},
        "onsetDateTime": "2019-06-01",
    }


def allergy(text: str = "ペニシリン系抗菌薬", *, contraindication: bool = False) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": "alg1",
        "code": {"text": text},
        "patient": {"reference": "urn:uuid:patient"},
        "reaction": [{"manifestation": [{"text": "じんましん"}]}],
    }
    if contraindication:
        resource["meta"] = {"tag": [{"system": ITEM_TAG_SYSTEM, "code": "contraindication"}]}
    return resource


def observation(text: str = "HbA1c", value: float = 6.1, unit: str = "%", *, infection: bool = False) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "obs1",
        "status": "final",
        "code": {"text": text},
        "subject": {"reference": "urn:uuid:patient"},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": value, "unit": unit},
    }
    if infection:
        resource["code"] = {"text": "HBs抗原"}
        resource.pop("valueQuantity")
        resource["valueString"] = "陰性"
        resource["meta"] = {"tag": [{"system": ITEM_TAG_SYSTEM, "code": "infection"}]}
    return resource


def prescription(text: str = "アムロジピン錠5mg") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": "urn:uuid:patient"},
        "authoredOn": "2026-11-01",
        "dosageInstruction": [{"text": "1日1回朝食後 1錠"}],
    }


DOC_TITLES = {"57133-1": "診療情報提供書", "18842-5": "退院時サマリー", "53576-5": "健康診断結果報告書"}


def document(loinc: str = "57133-1", items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    items = items if items is not None else [condition(), allergy(), prescription()]
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": "urn:uuid:composition",
            "resource": {
                "resourceType": "Composition",
                "status": "final",
                "type": {"coding": [{"system": LOINC, "code": loinc, "display": DOC_TITLES.get(loinc, "?")}]},
                "subject": {"reference": "urn:uuid:patient"},
                "date": "2026-11-20",
                "author": [{"reference": "urn:uuid:org"}],
                "title": DOC_TITLES.get(loinc, "文書"),
                "section": [
                    {"title": "内容", "entry": [{"reference": f"urn:uuid:item{n}"} for n in range(len(items))]}
                ],
            },
        },
        {"fullUrl": "urn:uuid:patient", "resource": {"resourceType": "Patient", "name": [{"text": "保険　太郎"}]}},
        {"fullUrl": "urn:uuid:org", "resource": {"resourceType": "Organization", "name": "本郷総合病院"}},
    ]
    for n, item in enumerate(items):
        item = copy.deepcopy(item)
        item["id"] = f"item{n}"
        entries.append({"fullUrl": f"urn:uuid:item{n}", "resource": item})
    return {
        "resourceType": "Bundle",
        "type": "document",
        "timestamp": "2026-11-20T10:00:00+09:00",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:doc1"},
        "entry": entries,
    }
