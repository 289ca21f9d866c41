"""The clinic terminal in Chromium: card + PIN on the reader → consent → eligibility and history.

Each terminal page is checked with axe (zero violations); screenshots are kept
under test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.clinic.world import PIN, World
from tests.e2e.conftest import ARTIFACTS, LiveServer, axe_violations, insert_card

pytestmark = pytest.mark.browser


@pytest.fixture
def live(world: World) -> Iterator[LiveServer]:
    with LiveServer(world.kojin) as server:
        yield server


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"clinic_{name}.png"), full_page=True)


def accessible(page: Any, name: str) -> None:
    shot(page, name)
    assert axe_violations(page) == [], name


def sign_in(page: Any, live: LiveServer, world: World) -> None:
    page.goto(live.url + "/clinic/")
    accessible(page, "login")
    page.fill("#clinic_id", world.clinic.clinic_id)
    page.fill("#key", world.clinic_key)
    page.click("button[type=submit]")
    page.wait_for_selector("#start-card")


def card_and_pin(page: Any, world: World, key: str, pin: str = PIN) -> None:
    """At reception: start the card check; on the reader put the card in and type the PIN."""
    page.click("#start-card")
    page.wait_for_url("**/reader/**")
    card_id = world.people[key].card_id
    assert card_id is not None
    insert_card(page, card_id)
    page.wait_for_selector("#pin")
    page.fill("#pin", pin)
    page.click("form[action='/reader/sign'] button[type=submit]")


def test_card_pin_consent_then_eligibility_and_history(live: LiveServer, page: Any, world: World) -> None:
    sign_in(page, live, world)
    assert "顔認証" in page.inner_text("#face-note")
    accessible(page, "reception")
    card_and_pin(page, world, "taro")
    page.wait_for_url("**/consent")
    accessible(page, "consent")
    page.check("#scope-medication")
    page.check("#scope-checkups")
    page.click("#agree")
    page.wait_for_selector("#eligibility")
    assert page.inner_text("#name") == "保険　太郎"
    assert "01130012" in page.inner_text("#insurer")
    assert page.locator("#medications").count() == 1 and page.locator("#checkups").count() == 1
    assert page.locator("#ehr").count() == 0  # not consented: not shown
    accessible(page, "result_with_history")
    views = world.kojin.clinics.my_views(world.people["taro"].juminhyo_code)
    assert {v["scope"] for v in views} == {"medication", "checkups"}


def test_refusing_consent_shows_eligibility_only(live: LiveServer, page: Any, world: World) -> None:
    sign_in(page, live, world)
    card_and_pin(page, world, "hanako")
    page.wait_for_url("**/consent")
    page.click("#refuse")
    page.wait_for_selector("#no-consent")
    assert page.inner_text("#name") == "保険　花子"
    assert page.locator("#medications").count() == 0 and page.locator("#checkups").count() == 0
    accessible(page, "result_refused")
    assert world.kojin.clinics.my_views(world.people["hanako"].juminhyo_code) == []


def test_certificate_path(live: LiveServer, page: Any, world: World) -> None:
    sign_in(page, live, world)
    ids = world.ids("jiro")
    for field, value in ids.items():
        page.fill(f"#{field}", value)
    page.click("#check-certificate")
    page.wait_for_selector("#certificate-only")
    assert page.inner_text("#name") == "国保　次郎"
    assert page.locator("#medications").count() == 0
    accessible(page, "result_certificate")
    # An unknown insurer number is its own result code.
    page.goto(live.url + "/clinic/")
    page.fill("#insurer_number", "06130016")
    page.fill("#number", "1")
    page.click("#check-certificate")
    assert page.inner_text("#error-code") == "eligibility.unknown_insurer"
    accessible(page, "error_unknown_insurer")


def test_revoked_card(live: LiveServer, page: Any, world: World) -> None:
    card_id = world.people["ume"].card_id
    assert card_id is not None
    world.kojin.cards.report_lost(card_id)
    sign_in(page, live, world)
    card_and_pin(page, world, "ume")
    page.wait_for_selector("#error-code")
    assert page.inner_text("#error-code") == "pki.revoked"
    accessible(page, "error_revoked")


def test_cancelled_registration(live: LiveServer, page: Any, world: World) -> None:
    world.kojin.clinics.set_card_registration(world.people["taro"].juminhyo_code, registered=False)
    sign_in(page, live, world)
    card_and_pin(page, world, "taro")
    page.wait_for_selector("#error-code")
    assert page.inner_text("#error-code") == "eligibility.not_registered"
    assert page.locator("#use-certificate").count() == 1
    accessible(page, "error_not_registered")


def test_wrong_pin_stays_on_the_reader(live: LiveServer, page: Any, world: World) -> None:
    sign_in(page, live, world)
    card_and_pin(page, world, "saburo", pin="9999")
    page.wait_for_selector("#reader-error")
    assert page.inner_text("#tries-left") == "2"
    shot(page, "reader_wrong_pin")


def test_e_health_records_with_consent_and_the_patients_portal_page(live: LiveServer, page: Any, world: World) -> None:
    from tests.ehr import samples

    world.kojin.clinics.submit_document(world.other, samples.document("18842-5"), patient=world.ids("taro"))
    sign_in(page, live, world)
    card_and_pin(page, world, "taro")
    page.wait_for_url("**/consent")
    page.check("#scope-ehr")
    page.click("#agree")
    page.wait_for_selector("#ehr")
    assert "退院時サマリー" in page.inner_text("main")
    assert page.locator("#medications").count() == 0
    accessible(page, "result_ehr")
    # The patient, in the portal, sees who viewed what.
    page.goto(live.url + "/portal/login")
    page.click("a[href^='/reader/']")
    page.wait_for_url("**/reader/**")
    card_id = world.people["taro"].card_id
    assert card_id is not None
    insert_card(page, card_id)
    page.fill("#pin", PIN)
    page.click("form[action='/reader/sign'] button[type=submit]")
    page.wait_for_url(live.url + "/portal/")
    page.click("#medical-link")
    page.wait_for_selector("#views")
    assert "小石川内科クリニック" in page.inner_text("main")
    accessible(page, "portal_medical")
