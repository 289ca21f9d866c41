"""The patient's medical pages in the portal: consents, records, views, insurance registration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from tests.clinic.world import World
from tests.ehr import samples
from tests.portal.helpers import Browser, form, forms


@pytest.fixture
def browser(world: World) -> Iterator[Browser]:
    b = Browser(create_app(world.kojin))
    with b.client:
        yield b


def test_the_patient_sees_and_controls_their_medical_data(world: World, browser: Browser) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    doc = kojin.clinics.submit_document(world.other, samples.document(), patient=world.ids("taro"))
    visit = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"), scopes=["medication", "ehr"])
    kojin.clinics.medications(world.clinic, visit.visit.visit_id)
    assert taro.card_id is not None
    assert browser.login(taro.card_id).status_code == 200
    home = browser.get("/portal/").text
    assert 'href="/portal/medical"' in home
    page = browser.get("/portal/medical").text
    assert "小石川内科クリニック" in page and "薬剤情報" in page and "診療情報提供書" in page
    assert 'href="/portal/history/' in page  # each view links to its log entry and proof
    # Withdraw the consent: the clinic sees nothing more.
    withdraw = next(f for f in forms(page) if f.action.endswith("/withdraw"))
    after = browser.post(withdraw.action, withdraw.fields)
    assert after.status_code == 200 and "同意を撤回しました" in after.text
    with pytest.raises(KojinError) as refused:
        kojin.clinics.records(world.clinic, visit.visit.visit_id)
    assert refused.value.code == "ehr.consent_withdrawn"
    # Hide the document, then share it again.
    hide = next(
        f
        for f in forms(after.text)
        if f.action == "/portal/medical/records/sharing" and f.fields["record_id"] == doc["doc_id"]
    )
    hidden = browser.post(hide.action, hide.fields)
    assert "共有を止めました" in hidden.text
    mine = kojin.clinics.my_records(taro.juminhyo_code)
    assert [d["hidden"] for d in mine["documents"]] == [True]
    show = next(
        f
        for f in forms(hidden.text)
        if f.action == "/portal/medical/records/sharing" and f.fields["record_id"] == doc["doc_id"]
    )
    assert show.fields["hidden"] == "0"
    browser.post(show.action, show.fields)
    assert [d["hidden"] for d in kojin.clinics.my_records(taro.juminhyo_code)["documents"]] == [False]


def test_cancelling_and_restoring_the_card_registration(world: World, browser: Browser) -> None:
    hanako = world.people["hanako"]
    assert hanako.card_id is not None
    browser.login(hanako.card_id)
    page = browser.get("/portal/medical").text
    cancel = dict(form(page, "/portal/medical/registration").fields)
    assert cancel["action"] == "cancel"
    refused = browser.post("/portal/medical/registration", cancel)  # the confirmation box is not ticked
    assert refused.status_code == 422 and "card.confirm" in refused.text
    done = browser.post("/portal/medical/registration", {**cancel, "confirm": "yes"})
    assert "資格確認書が交付されます" in done.text and 'href="/portal/medical/certificate.pdf"' in done.text
    pdf = browser.get("/portal/medical/certificate.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    with pytest.raises(KojinError) as refused_card:
        world.kojin.clinics.check_card(world.clinic, *world.card_answer("hanako"))
    assert refused_card.value.code == "eligibility.not_registered"
    restore = dict(form(done.text, "/portal/medical/registration").fields)
    assert restore["action"] == "restore"
    browser.post("/portal/medical/registration", restore)
    assert world.kojin.clinics.check_card(world.clinic, *world.card_answer("hanako")).answer["ResultList"]


def test_forged_posts_and_no_session(world: World, browser: Browser) -> None:
    r = browser.get("/portal/medical", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/portal/?ended=")
    ume = world.people["ume"]
    assert ume.card_id is not None
    browser.login(ume.card_id)
    r = browser.post("/portal/medical/registration", {"action": "cancel", "confirm": "yes", "csrf_token": "x"})
    assert r.status_code == 403 and "csrf.invalid" in r.text
    assert world.kojin.eligibility.registration(ume.membership) == "registered"
