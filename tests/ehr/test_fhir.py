"""The three documents and six items as FHIR, validated with fhir.resources; malformed input refused."""

from __future__ import annotations

from typing import Any

import pytest

from kojin.core.errors import KojinError
from kojin.ehr.domain import (
    DocumentType,
    ItemKind,
    Scope,
    parse_document,
    parse_item,
    parse_scopes,
    without,
)
from tests.ehr import samples


@pytest.mark.parametrize("loinc", ["57133-1", "18842-5", "53576-5"])
def test_each_document_type_parses_with_its_items(loinc: str) -> None:
    doc = parse_document(samples.document(loinc))
    assert doc.doc_type is DocumentType(loinc)
    assert [i.kind for i in doc.items] == [ItemKind.CONDITION, ItemKind.ALLERGY, ItemKind.PRESCRIPTION]
    assert doc.items[0].summary.startswith("本態性高血圧症")


@pytest.mark.parametrize(
    ("resource", "kind"),
    [
        (samples.condition(), ItemKind.CONDITION),
        (samples.observation(infection=True), ItemKind.INFECTION),
        (samples.allergy(contraindication=True), ItemKind.CONTRAINDICATION),
        (samples.allergy(), ItemKind.ALLERGY),
        (samples.observation(), ItemKind.LAB),
        (samples.prescription(), ItemKind.PRESCRIPTION),
    ],
)
def test_the_six_items(resource: dict[str, Any], kind: ItemKind) -> None:
    item = parse_item(resource)
    assert item.kind is kind
    assert item.summary


def _bad(**changes: Any) -> dict[str, Any]:
    doc = samples.document()
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("not json", "ehr.fhir_invalid"),
        ([1, 2], "ehr.fhir_invalid"),
        ({"resourceType": "Patient"}, "ehr.fhir_invalid"),
        (_bad(type="collection"), "ehr.not_a_document"),
        (_bad(entry=[]), "ehr.not_a_document"),
        (_bad(bogus=1), "ehr.fhir_invalid"),
        (_bad(timestamp="yesterday"), "ehr.fhir_invalid"),
        (samples.document("11488-4"), "ehr.unknown_document_type"),
    ],
)
def test_malformed_documents(data: object, code: str) -> None:
    with pytest.raises(KojinError) as err:
        parse_document(data)
    assert err.value.code == code


def test_a_document_needs_full_urls_and_known_resources() -> None:
    doc = samples.document()
    del doc["entry"][3]["fullUrl"]
    with pytest.raises(KojinError) as err:
        parse_document(doc)
    assert err.value.code == "ehr.fhir_invalid"
    doc = samples.document()
    doc["entry"].append({"fullUrl": "urn:uuid:claim", "resource": {"resourceType": "Account", "status": "active"}})
    with pytest.raises(KojinError) as err:
        parse_document(doc)
    assert err.value.code == "ehr.unsupported_resource"


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        ({"resourceType": "Patient", "name": [{"text": "x"}]}, "ehr.unsupported_resource"),
        ({**samples.condition(), "onsetDateTime": "last spring"}, "ehr.fhir_invalid"),
        (
            {**samples.condition(), "meta": {"tag": [{"system": "urn:kojin:fhir:ehr-item", "code": "allergy"}]}},
            "ehr.fhir_invalid",
        ),
        (
            {**samples.observation(), "meta": {"tag": [{"system": "urn:kojin:fhir:ehr-item", "code": "x"}]}},
            "ehr.fhir_invalid",
        ),
        ({"resourceType": "Observation", "code": {"text": "x"}}, "ehr.fhir_invalid"),
    ],
)
def test_malformed_items(resource: dict[str, Any], code: str) -> None:
    with pytest.raises(KojinError) as err:
        parse_item(resource)
    assert err.value.code == code


def test_hidden_entries_leave_the_shared_bundle() -> None:
    doc = samples.document()
    shared = without(doc, {"urn:uuid:item1"})
    urls = [e["fullUrl"] for e in shared["entry"]]
    assert "urn:uuid:item1" not in urls and "urn:uuid:item0" in urls
    refs = [r["reference"] for r in shared["entry"][0]["resource"]["section"][0]["entry"]]
    assert "urn:uuid:item1" not in refs
    assert without(doc, set()) is doc


def test_scopes() -> None:
    assert parse_scopes(["medication", "ehr", "medication"]) == (Scope.MEDICATION, Scope.EHR)
    assert parse_scopes([]) == ()
    for bad in (["all"], "medication"):
        with pytest.raises(KojinError) as err:
            parse_scopes(bad)
        assert err.value.code == "ehr.bad_scope"
