"""Submitting documents and items, sharing them under consent, hiding them, and who viewed what."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kojin.core.errors import KojinError
from tests.clinic.world import World
from tests.ehr import samples


def code_of(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(KojinError) as err:
        call(*args, **kwargs)
    return err.value.code


def _submit(world: World) -> tuple[str, list[str], str]:
    kojin = world.kojin
    # The hospital submits a referral for Taro, naming him by his insurance identifiers.
    doc = kojin.clinics.submit_document(world.other, samples.document("57133-1"), patient=world.ids("taro"))
    item = kojin.clinics.submit_item(world.other, samples.observation(infection=True), patient=world.ids("taro"))
    return doc["doc_id"], doc["item_ids"], item["item_id"]


def test_a_clinic_sees_records_only_with_consent_at_its_visit(world: World) -> None:
    kojin = world.kojin
    doc_id, item_ids, infection = _submit(world)
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=["ehr"]).visit.visit_id
    shared = kojin.clinics.records(world.clinic, visit)
    assert [d["doc_id"] for d in shared["documents"]] == [doc_id]
    assert shared["documents"][0]["label"] == "診療情報提供書"
    assert {i["item_id"] for i in shared["items"]} == {*item_ids, infection}
    assert {i["kind"] for i in shared["items"]} == {"condition", "allergy", "prescription", "infection"}
    # Without consent at its own visit, the submitting hospital sees nothing either.
    other_visit = kojin.clinics.check_card(world.other, *world.card_answer("taro"), scopes=[]).visit.visit_id
    assert code_of(kojin.clinics.records, world.other, other_visit) == "ehr.consent_not_covering"
    assert code_of(kojin.clinics.records, world.other, visit) == "ehr.consent_other_clinic"
    # Hanako's records are hers: nothing of Taro's.
    hv = kojin.clinics.check_card(world.clinic, *world.card_answer("hanako"), scopes=["ehr"]).visit.visit_id
    assert kojin.clinics.records(world.clinic, hv)["documents"] == []


def test_the_patient_hides_an_item_or_a_document(world: World) -> None:
    kojin = world.kojin
    taro = world.people["taro"].juminhyo_code
    doc_id, item_ids, infection = _submit(world)
    kojin.clinics.set_hidden(taro, item_id=infection, hidden=True)
    kojin.clinics.set_hidden(taro, item_id=item_ids[1], hidden=True)  # the allergy, inside the document
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=["ehr"]).visit.visit_id
    shared = kojin.clinics.records(world.clinic, visit)
    assert {i["item_id"] for i in shared["items"]} == {item_ids[0], item_ids[2]}
    urls = [e["fullUrl"] for e in shared["documents"][0]["bundle"]["entry"]]
    assert "urn:uuid:item1" not in urls and "urn:uuid:item0" in urls
    kojin.clinics.set_hidden(taro, doc_id=doc_id, hidden=True)
    shared = kojin.clinics.records(world.clinic, visit)
    assert shared["documents"] == [] and shared["items"] == []
    mine = kojin.clinics.my_records(taro)
    assert [d["hidden"] for d in mine["documents"]] == [True]
    assert sum(i["hidden"] for i in mine["items"]) == 2
    kojin.clinics.set_hidden(taro, doc_id=doc_id, hidden=False)
    assert len(kojin.clinics.records(world.clinic, visit)["documents"]) == 1
    # Someone else's record cannot be touched.
    hanako = world.people["hanako"].juminhyo_code
    assert code_of(kojin.clinics.set_hidden, hanako, doc_id=doc_id, hidden=True) == "ehr.unknown_record"
    views = kojin.clinics.my_views(taro)
    assert {v["scope"] for v in views} == {"ehr"} and len(views) == 3


def test_submission_names_the_patient_by_visit_or_identifiers(world: World) -> None:
    kojin = world.kojin
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("ume")).visit.visit_id
    done = kojin.clinics.submit_item(world.clinic, samples.prescription(), visit_id=visit)
    assert done["kind"] == "prescription"
    assert (
        code_of(kojin.clinics.submit_item, world.other, samples.prescription(), visit_id=visit)
        == "ehr.consent_other_clinic"
    )
    unknown = {**world.ids("jiro"), "number": "424242"}
    assert (
        code_of(kojin.clinics.submit_item, world.clinic, samples.prescription(), patient=unknown)
        == "eligibility.certificate_unknown"
    )
    assert (
        code_of(
            kojin.clinics.submit_document,
            world.clinic,
            {"resourceType": "Bundle", "type": "document", "entry": "x"},
            patient=world.ids("jiro"),
        )
        == "ehr.fhir_invalid"
    )
