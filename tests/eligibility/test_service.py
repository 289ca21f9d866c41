"""The eligibility service and the clinic walk, through the services (every result code)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kojin.core.errors import KojinError
from kojin.eligibility.domain import InsurerKind, LossReason, certificate_validity
from kojin.hub.domain import subject_commitment
from kojin.registry.domain import Address, PersonDetails, Sex
from tests.clinic.world import PIN, TODAY, World


def code_of(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(KojinError) as err:
        call(*args, **kwargs)
    return err.value.code


def test_card_check_answers_by_serial_with_the_official_fields(world: World) -> None:
    kojin = world.kojin
    outcome = kojin.clinics.check_card(world.clinic, *world.card_answer("hanako"))
    r = outcome.answer["ResultList"]
    assert outcome.answer["ProcessingResultStatus"] == "1"
    assert outcome.answer["QualificationValidity"] == "1"
    assert outcome.answer["result_code"] == "eligibility.valid"
    assert r["Name"] == "保険　花子" and r["InsuredName"] == "保険　太郎"
    assert r["PersonalFamilyClassification"] == "2"
    assert r["InsuredBranchNumber"] == "01"
    assert r["InsurerNumber"] == "01130012"
    assert outcome.visit.clinic_id == world.clinic.clinic_id
    assert not outcome.registered_now


def test_first_card_check_registers_the_card(world: World) -> None:
    kojin = world.kojin
    saburo = world.people["saburo"]
    assert kojin.eligibility.registration(saburo.membership) is None
    outcome = kojin.clinics.check_card(world.clinic, *world.card_answer("saburo"))
    assert outcome.registered_now
    assert kojin.eligibility.registration(saburo.membership) == "registered"


def test_checks_issue_no_codes_at_the_hub(world: World) -> None:
    kojin = world.kojin
    before = kojin.hub.counts()["codes"]
    kojin.clinics.check_card(world.clinic, *world.card_answer("taro"))
    assert kojin.hub.counts()["codes"] == before


def test_revoked_card(world: World) -> None:
    kojin = world.kojin
    answer = world.card_answer("taro")
    card_id = world.people["taro"].card_id
    assert card_id is not None
    kojin.cards.report_lost(card_id)
    assert code_of(kojin.clinics.check_card, world.clinic, *answer) == "pki.revoked"


def test_expired_certificate(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    kojin = world.kojin
    later = datetime(2040, 1, 1, tzinfo=UTC).timestamp()
    monkeypatch.setattr(kojin.auth, "_clock", lambda: later)
    assert code_of(kojin.clinics.check_card, world.clinic, *world.card_answer("taro")) == "pki.expired"


def test_foreign_certificate(world: World) -> None:
    kojin = world.kojin
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Not J-LIS")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    challenge = kojin.clinics.challenge().value
    signature = key.sign(challenge.encode(), ec.ECDSA(hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    assert code_of(kojin.clinics.check_card, world.clinic, challenge, der, signature) == "pki.foreign_ca"


def test_wrong_pin_never_reaches_the_service(world: World) -> None:
    assert code_of(world.card_answer, "taro", pin="9999") == "card.pin_wrong"


def test_replayed_and_foreign_challenges(world: World) -> None:
    kojin = world.kojin
    answer = world.card_answer("taro")
    kojin.clinics.check_card(world.clinic, *answer)
    assert code_of(kojin.clinics.check_card, world.clinic, *answer) == "auth.challenge_replayed"
    portal_challenge = kojin.auth.challenge("portal").value
    card_id = world.people["taro"].card_id
    assert card_id is not None
    from kojin.auth.service import sign_challenge_with_card
    from kojin.card.transport import InProcessTransport

    cert, sig = sign_challenge_with_card(InProcessTransport(kojin.cards.load(card_id)), PIN, portal_challenge)
    assert code_of(kojin.clinics.check_card, world.clinic, portal_challenge, cert, sig) == "auth.challenge_other_rp"


def test_lost_eligibility_answers_invalid_with_the_reason(world: World) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    kojin.insurers.get("kyokai").lose_qualification(
        taro.local_id, lost_on=date(2026, 10, 1), reason=LossReason.RETIREMENT
    )
    outcome = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"))
    assert outcome.answer["QualificationValidity"] == "2"
    assert outcome.answer["result_code"] == "eligibility.lost"
    assert outcome.answer["ResultList"]["ReasonOfLoss"] == "1"
    assert outcome.answer["ResultList"]["DisqualificationDate"] == "20261001"


def test_card_holder_without_insurance(world: World) -> None:
    kojin = world.kojin
    details = PersonDetails(
        "無保険　四郎", "ムホケン　シロウ", Sex.MALE, date(1970, 1, 1), Address("1130033", "", "", "", "9-9")
    )
    rid = kojin.register.register(details, municipality_code="13105", today=TODAY).resident.resident_id
    card = kojin.cards.issue(rid, auth_pin=PIN, signature_password="ABC123", algorithm="p256", today=TODAY)
    world.people["shiro"] = world.people["taro"].__class__(
        "shiro", rid, "", "", "", world.people["taro"].membership, "", card.card_id
    )
    assert (
        code_of(kojin.clinics.check_card, world.clinic, *world.card_answer("shiro")) == "eligibility.no_qualification"
    )


def test_certificate_path_gives_eligibility_only(world: World) -> None:
    kojin = world.kojin
    answer = kojin.clinics.check_certificate(world.clinic, **world.ids("jiro"))
    assert answer["ResultList"]["InsuredCardClassification"] == "11"
    # jiro is in the municipality's NHI: the certificate runs to the next 31 July.
    expected = certificate_validity(InsurerKind.NHI, TODAY)
    assert answer["ResultList"]["InsuredCardExpirationDate"] == expected.strftime("%Y%m%d")
    assert "visit_id" not in answer


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"insurer_number": "01130013"}, "eligibility.unknown_insurer"),
        ({"insurer_number": "06130016"}, "eligibility.unknown_insurer"),
        ({"insurer_number": "1234"}, "eligibility.bad_insurer_number"),
        ({"number": "99999"}, "eligibility.certificate_unknown"),
        ({"branch": "7"}, "eligibility.bad_branch"),
    ],
)
def test_certificate_path_refusals(world: World, change: dict[str, str], code: str) -> None:
    ids = {**world.ids("jiro"), **change}
    assert code_of(world.kojin.clinics.check_certificate, world.clinic, **ids) == code


def test_expired_and_missing_certificates(world: World) -> None:
    kojin = world.kojin
    jiro = world.people["jiro"]
    kojin.insurers.get("13105").issue_certificate(jiro.local_id, reason="renewal", today=date(2020, 1, 10))
    assert (
        code_of(kojin.clinics.check_certificate, world.clinic, **world.ids("jiro")) == "eligibility.certificate_expired"
    )
    # Taro registered his card: no 資格確認書 was issued to him.
    assert code_of(kojin.clinics.check_certificate, world.clinic, **world.ids("taro")) == "eligibility.no_certificate"


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_cancelling_registration_sends_a_certificate_and_the_card_is_refused(world: World, tmp_path: Path) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    assert kojin.clinics.my_insurance(taro.juminhyo_code)["certificate"] is None
    state = kojin.clinics.set_card_registration(taro.juminhyo_code, registered=False)
    assert state["registration"] == "cancelled"
    cert = state["certificate"]
    assert cert is not None and cert["reason"] == "cancelled"
    # Issued today by the service's own clock (the world's people were registered
    # on a fixed date, but the cancellation happens now): at most five years on.
    issued_on = kojin.eligibility.today()
    assert issued_on < date.fromisoformat(cert["valid_until"]) <= issued_on + timedelta(days=5 * 366)
    assert code_of(kojin.clinics.check_card, world.clinic, *world.card_answer("taro")) == "eligibility.not_registered"
    # The certificate works at the counter, and the PDF says what it is, in Japanese, with the font embedded.
    answer = kojin.clinics.check_certificate(world.clinic, **world.ids("taro"))
    assert answer["QualificationValidity"] == "1"
    pdf = kojin.clinics.my_certificate_pdf(taro.juminhyo_code)
    # pdftotext lays an ideographic space out as several spaces: compare without blanks.
    text = "".join(_pdf_text(pdf, tmp_path).split())
    for expected in (
        "資格確認書",
        "保険太郎",
        "全国健康保険協会東京支部",
        "01130012",
        "50110037",
        "3割",
        "利用登録が解除された",
        cert["valid_until"],
    ):
        assert expected in text, expected
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "certificate.pdf")], check=True, capture_output=True, text=True
    ).stdout
    assert "IPAexGothic" in fonts and " yes " in fonts  # embedded
    # Restored: the card answers again.
    kojin.clinics.set_card_registration(taro.juminhyo_code, registered=True)
    assert kojin.clinics.check_card(world.clinic, *world.card_answer("taro")).answer["QualificationValidity"] == "1"


def test_cancelling_at_the_insurer(world: World) -> None:
    kojin = world.kojin
    ume = world.people["ume"]
    service = kojin.insurers.get("tokyo_kouki")
    service.cancel_registration(ume.local_id)
    cert = service.current_certificate(ume.local_id)
    assert (cert is not None and cert.valid_until == date(2027, 7, 31)) or cert is not None
    assert code_of(kojin.clinics.check_card, world.clinic, *world.card_answer("ume")) == "eligibility.not_registered"


def test_consent_scopes_what_is_shown(world: World) -> None:
    kojin = world.kojin
    outcome = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=["medication"])
    visit = outcome.visit.visit_id
    meds = kojin.clinics.medications(world.clinic, visit)
    assert meds["medications"] and meds["leaf_index"] is not None
    assert code_of(kojin.clinics.checkups, world.clinic, visit) == "ehr.consent_not_covering"
    assert code_of(kojin.clinics.records, world.clinic, visit) == "ehr.consent_not_covering"
    history = kojin.clinics.history(world.clinic, visit)
    assert set(history) == {"scopes", "medications"}


def test_refusing_consent_shows_nothing(world: World) -> None:
    kojin = world.kojin
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=[]).visit.visit_id
    for view in (kojin.clinics.medications, kojin.clinics.checkups, kojin.clinics.records):
        assert code_of(view, world.clinic, visit) == "ehr.consent_not_covering"
    assert kojin.clinics.history(world.clinic, visit) == {"scopes": []}
    assert kojin.clinics.my_views(world.people["taro"].juminhyo_code) == []


def test_views_without_consent_and_for_another_clinic(world: World) -> None:
    kojin = world.kojin
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("taro")).visit.visit_id
    assert code_of(kojin.clinics.medications, world.clinic, visit) == "ehr.consent_missing"
    kojin.clinics.consent(world.clinic, visit, ["medication", "checkups", "ehr"])
    assert code_of(kojin.clinics.consent, world.clinic, visit, ["ehr"]) == "ehr.consent_given"
    # Another clinic cannot use this visit or its consent.
    assert code_of(kojin.clinics.medications, world.other, visit) == "ehr.consent_other_clinic"
    assert code_of(kojin.clinics.consent, world.other, visit, ["ehr"]) == "ehr.consent_other_clinic"
    assert code_of(kojin.clinics.medications, world.clinic, "0" * 32) == "eligibility.visit_unknown"
    assert code_of(kojin.clinics.medications, world.clinic, "short") == "eligibility.visit_unknown"
    assert code_of(kojin.clinics.consent, world.clinic, visit, ["everything"]) == "ehr.bad_scope"


def test_consent_window_expiry_and_withdrawal(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    late = kojin.clinics.check_card(world.clinic, *world.card_answer("taro")).visit.visit_id
    now = datetime.now(UTC).timestamp()
    monkeypatch.setattr(kojin.ehr, "_clock", lambda: now + 600)
    assert code_of(kojin.clinics.consent, world.clinic, late, ["medication"]) == "ehr.consent_window_closed"
    monkeypatch.setattr(kojin.ehr, "_clock", lambda: now)
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=["checkups"]).visit.visit_id
    monkeypatch.setattr(kojin.ehr, "_clock", lambda: now + 25 * 3600)
    assert code_of(kojin.clinics.checkups, world.clinic, visit) == "ehr.consent_expired"
    monkeypatch.setattr(kojin.eligibility, "_clock", lambda: now + 25 * 3600)
    assert code_of(kojin.clinics.checkups, world.clinic, visit) == "eligibility.visit_expired"
    monkeypatch.setattr(kojin.ehr, "_clock", lambda: now)
    monkeypatch.setattr(kojin.eligibility, "_clock", lambda: now)
    consents = kojin.clinics.my_consents(taro.juminhyo_code)
    active = next(c for c in consents if c["visit_id"] == visit)
    assert active["state"] == "active" and active["scopes"] == ["checkups"]
    kojin.clinics.withdraw_consent(taro.juminhyo_code, active["consent_id"])
    assert code_of(kojin.clinics.checkups, world.clinic, visit) == "ehr.consent_withdrawn"
    assert code_of(kojin.clinics.withdraw_consent, taro.juminhyo_code, active["consent_id"]) == "ehr.consent_withdrawn"
    # Nobody else can withdraw it (or learn it exists).
    hanako = world.people["hanako"]
    assert code_of(kojin.clinics.withdraw_consent, hanako.juminhyo_code, active["consent_id"]) == "ehr.unknown_consent"


def test_each_view_is_an_exchange_leaf_the_patient_can_find(world: World) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    visit = kojin.clinics.check_card(
        world.clinic, *world.card_answer("taro"), scopes=["medication", "checkups"]
    ).visit.visit_id
    leaf_index = kojin.clinics.medications(world.clinic, visit)["leaf_index"]
    leaf = json.loads(kojin.exchange_log.leaf_data(leaf_index))
    assert leaf["requester"] == "clinic_1310512345" and leaf["provider"] == "eligibility"
    assert leaf["item"] == "薬剤情報"
    key = kojin.hub.subject_key_for(kojin.numbering.link_id_for_code(taro.juminhyo_code))
    assert leaf["subject"] == subject_commitment(key, leaf["requester"], leaf["request_id"])
    views = kojin.clinics.my_views(taro.juminhyo_code)
    assert views[0]["leaf_index"] == leaf_index and views[0]["clinic_name"] == "小石川内科クリニック"
    records = [r for r in kojin.hub.records() if r["leaf_index"] == leaf_index]
    assert records and records[0]["requester_name"] == "小石川内科クリニック"
    # Hanako's views list stays empty: the pseudonyms differ.
    assert kojin.clinics.my_views(world.people["hanako"].juminhyo_code) == []


def test_clinic_keys(world: World) -> None:
    kojin = world.kojin
    assert kojin.eligibility.authenticate_clinic(world.clinic_key) == world.clinic
    for bad in (None, "", "kojin-clinic.1310512345.wrong", world.other_key[:-2] + "xx", "x" * 200):
        assert code_of(kojin.eligibility.authenticate_clinic, bad) == "eligibility.clinic_unauthenticated"
    assert code_of(kojin.eligibility.register_clinic, "1310512345", "again") == "eligibility.clinic_exists"
    assert code_of(kojin.eligibility.register_clinic, "12", "x") == "eligibility.bad_clinic_id"


def test_stores_hold_no_number_and_no_resident_code(world: World) -> None:
    from tests.test_privacy import all_numbers, dump_store

    kojin = world.kojin
    kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=["medication"])
    numbers = all_numbers(kojin)
    codes = [p.juminhyo_code for p in world.people.values()]
    parties = ["eligibility", "ehr", *(f"insurer_{i}" for i in ("kyokai", "tokyo_kouki", "13105", "kenpo_kojin"))]
    for party in parties:
        text = dump_store(kojin, party)
        assert text
        for secret in (*numbers, *codes):
            assert secret not in text, (party, secret)
