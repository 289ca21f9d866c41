"""The /eligibility and /ehr APIs: every result code in the shared error shape."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kojin.auth.service import sign_challenge_with_card
from kojin.card.transport import InProcessTransport
from kojin.entrypoints.http.app import create_app
from tests.clinic.world import World
from tests.ehr import samples


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.kojin), raise_server_exceptions=False) as c:
        yield c


def check_body(world: World, key: str, scopes: list[str] | None = None, pin: str = "1234") -> dict[str, Any]:
    challenge, cert, sig = world.card_answer(key, pin)
    body: dict[str, Any] = {
        "challenge": challenge,
        "certificate": base64.b64encode(cert).decode(),
        "signature": base64.b64encode(sig).decode(),
    }
    if scopes is not None:
        body["scopes"] = scopes
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def err(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_card_check_consent_and_history(client: TestClient, world: World) -> None:
    h = {"X-Clinic-Key": world.clinic_key}
    r = client.post("/eligibility/challenge", headers=h)
    assert r.status_code == 200 and r.json()["face_matching"] is False
    r = client.post("/eligibility/check", json=check_body(world, "taro"), headers=h)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["QualificationValidity"] == "1" and answer["consent"] is None
    visit = answer["visit_id"]
    assert err(client.get(f"/eligibility/visits/{visit}/medications", headers=h)) == (403, "ehr.consent_missing")
    r = client.post(f"/eligibility/visits/{visit}/consent", json={"scopes": ["medication", "checkups"]}, headers=h)
    assert r.status_code == 200 and r.json()["state"] == "active"
    meds = client.get(f"/eligibility/visits/{visit}/medications", headers=h).json()
    assert meds["medications"][0]["drug_code"]
    assert client.get(f"/eligibility/visits/{visit}/checkups", headers=h).status_code == 200
    assert err(client.get(f"/ehr/visits/{visit}/records", headers=h)) == (403, "ehr.consent_not_covering")
    other = {"X-Clinic-Key": world.other_key}
    assert err(client.get(f"/eligibility/visits/{visit}/medications", headers=other)) == (
        403,
        "ehr.consent_other_clinic",
    )
    # The answer never carries the person's number or 住民票コード.
    code = world.people["taro"].juminhyo_code
    assert code not in r.text and world.kojin.numbering.number_for(code) not in str(answer)


def test_refusals_of_the_card_path(client: TestClient, world: World) -> None:
    h = {"X-Clinic-Key": world.clinic_key}
    assert err(client.post("/eligibility/challenge")) == (401, "eligibility.clinic_unauthenticated")
    assert err(client.post("/eligibility/check", json=check_body(world, "taro"), headers={"X-Clinic-Key": "x"})) == (
        401,
        "eligibility.clinic_unauthenticated",
    )
    body = check_body(world, "taro")
    body["signature"] = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    assert err(client.post("/eligibility/check", json=body, headers=h)) == (401, "auth.bad_signature")
    body = check_body(world, "taro")
    body["certificate"] = "!!"
    assert err(client.post("/eligibility/check", json=body, headers=h)) == (422, "request.bad_base64")
    body = check_body(world, "taro", scopes=["everything"])
    assert err(client.post("/eligibility/check", json=body, headers=h)) == (422, "ehr.bad_scope")
    card_id = world.people["ume"].card_id
    assert card_id is not None
    body = check_body(world, "ume")
    world.kojin.cards.report_lost(card_id)
    assert err(client.post("/eligibility/check", json=body, headers=h)) == (401, "pki.revoked")
    world.kojin.clinics.set_card_registration(world.people["hanako"].juminhyo_code, registered=False)
    assert err(client.post("/eligibility/check", json=check_body(world, "hanako"), headers=h)) == (
        403,
        "eligibility.not_registered",
    )
    assert err(client.get("/eligibility/visits/" + "a" * 32 + "/medications", headers=h)) == (
        404,
        "eligibility.visit_unknown",
    )


def test_refusing_consent_in_the_check(client: TestClient, world: World) -> None:
    h = {"X-Clinic-Key": world.clinic_key}
    answer = client.post("/eligibility/check", json=check_body(world, "taro", scopes=[]), headers=h).json()
    assert answer["consent"] == []
    for path in ("eligibility/visits/{v}/medications", "eligibility/visits/{v}/checkups", "ehr/visits/{v}/records"):
        assert err(client.get("/" + path.format(v=answer["visit_id"]), headers=h)) == (403, "ehr.consent_not_covering")


def test_certificate_path(client: TestClient, world: World) -> None:
    h = {"X-Clinic-Key": world.clinic_key}
    r = client.post("/eligibility/check-certificate", json=world.ids("jiro"), headers=h)
    assert r.status_code == 200 and r.json()["ResultList"]["Name"] == "国保　次郎"
    assert "visit_id" not in r.json()
    cases = [
        ({"insurer_number": "06130016"}, (404, "eligibility.unknown_insurer")),
        ({"insurer_number": "01130013"}, (404, "eligibility.unknown_insurer")),
        ({"number": "1234567"}, (404, "eligibility.certificate_unknown")),
        ({"insurer_number": "123456789"}, (422, "request.invalid")),
    ]
    for change, expected in cases:
        assert (
            err(client.post("/eligibility/check-certificate", json={**world.ids("jiro"), **change}, headers=h))
            == expected
        )
    assert err(client.post("/eligibility/check-certificate", json=world.ids("taro"), headers=h)) == (
        404,
        "eligibility.no_certificate",
    )


def test_ehr_submission_and_viewing(client: TestClient, world: World) -> None:
    h = {"X-Clinic-Key": world.clinic_key}
    other = {"X-Clinic-Key": world.other_key}
    r = client.post(
        "/ehr/documents", json={"patient": world.ids("taro"), "bundle": samples.document("18842-5")}, headers=other
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/ehr/items",
        json={"patient": world.ids("taro"), "resource": samples.allergy(contraindication=True)},
        headers=other,
    )
    assert r.status_code == 200 and r.json()["kind"] == "contraindication"
    visit = client.post("/eligibility/check", json=check_body(world, "taro", scopes=["ehr"]), headers=h).json()
    records = client.get(f"/ehr/visits/{visit['visit_id']}/records", headers=h).json()
    assert records["documents"][0]["label"] == "退院時サマリー"
    assert len(records["items"]) == 4
    bad = [
        (
            {"patient": world.ids("taro"), "bundle": {**samples.document(), "type": "collection"}},
            "/ehr/documents",
            (422, "ehr.not_a_document"),
        ),
        (
            {"patient": world.ids("taro"), "bundle": samples.document("00000-0")},
            "/ehr/documents",
            (422, "ehr.unknown_document_type"),
        ),
        (
            {"patient": world.ids("taro"), "resource": {**samples.condition(), "onsetDateTime": 5}},
            "/ehr/items",
            (422, "ehr.fhir_invalid"),
        ),
        (
            {"patient": world.ids("taro"), "resource": {"resourceType": "Patient"}},
            "/ehr/items",
            (422, "ehr.unsupported_resource"),
        ),
        (
            {"patient": {**world.ids("taro"), "insurer_number": "39131009"}, "resource": samples.condition()},
            "/ehr/items",
            (404, "eligibility.unknown_insurer"),
        ),
    ]
    for body, path, expected in bad:
        assert err(client.post(path, json=body, headers=h)) == expected, path
    assert err(client.post("/ehr/items", json={"resource": samples.condition()})) == (
        401,
        "eligibility.clinic_unauthenticated",
    )


def test_more_result_codes_in_the_api(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, date, datetime

    from kojin.eligibility.domain import LossReason

    kojin = world.kojin
    h = {"X-Clinic-Key": world.clinic_key}
    # Lost eligibility: answered, marked invalid, with the reason.
    kojin.insurers.get("kenpo_kojin").lose_qualification(
        world.people["saburo"].local_id, lost_on=date(2026, 9, 30), reason=LossReason.RETIREMENT
    )
    lost = client.post("/eligibility/check", json=check_body(world, "saburo"), headers=h).json()
    assert (lost["result_code"], lost["QualificationValidity"], lost["ResultList"]["ReasonOfLoss"]) == (
        "eligibility.lost",
        "2",
        "1",
    )
    # An expired 資格確認書.
    kojin.insurers.get("13105").issue_certificate(
        world.people["jiro"].local_id, reason="renewal", today=date(2020, 1, 6)
    )
    assert err(client.post("/eligibility/check-certificate", json=world.ids("jiro"), headers=h)) == (
        409,
        "eligibility.certificate_expired",
    )
    # An expired card certificate (the service's clock far ahead).
    body = check_body(world, "taro")
    later = datetime(2040, 1, 1, tzinfo=UTC).timestamp()
    monkeypatch.setattr(kojin.auth, "_clock", lambda: later)
    assert err(client.post("/eligibility/check", json=body, headers=h))[1] in ("pki.expired", "auth.challenge_expired")


def test_refusals_in_english(client: TestClient, world: World) -> None:
    world.kojin.clinics.set_card_registration(world.people["hanako"].juminhyo_code, registered=False)
    r = client.post(
        "/eligibility/check?lang=en", json=check_body(world, "hanako"), headers={"X-Clinic-Key": world.clinic_key}
    )
    assert r.status_code == 403 and "not registered for health insurance" in r.json()["error"]["message"]


def test_a_card_reported_lost_is_refused_at_once_by_every_relying_party(client: TestClient, world: World) -> None:
    h = {"X-Clinic-Key": world.clinic_key}
    card_id = world.people["taro"].card_id
    assert card_id is not None

    def portal_login() -> Any:
        challenge = client.post("/auth/portal/challenge").json()["challenge"]
        transport = InProcessTransport(world.kojin.cards.load(card_id))
        cert, sig = sign_challenge_with_card(transport, "1234", challenge)
        body = {"challenge": challenge, "certificate": b64(cert), "signature": b64(sig)}
        return client.post("/auth/portal/verify", json=body)

    # Both relying parties have just seen the card good (and keep that answer).
    assert client.post("/eligibility/check", json=check_body(world, "taro"), headers=h).status_code == 200
    assert portal_login().status_code == 200
    world.kojin.cards.report_lost(card_id)
    assert err(client.post("/eligibility/check", json=check_body(world, "taro"), headers=h)) == (401, "pki.revoked")
    assert err(portal_login()) == (401, "pki.revoked")
