"""Staff in Debian's Chromium: a counter clerk logs in with a staff card, reads a resident for a purpose;
the resident then logs in and finds that read on the portal's 職員の閲覧記録 page. axe on every page.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import pytest

from kojin.app import Kojin
from kojin.demo.staff import seed_demo_staff
from kojin.staff.domain import Role
from tests.e2e.conftest import ARTIFACTS, LiveServer, axe_violations, insert_card
from tests.e2e.test_portal import login
from tests.portal.helpers import card, resident

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def check(page: Page, name: str) -> None:
    violations = axe_violations(page)
    assert violations == [], (name, [(v["id"], [n["html"] for n in v["nodes"]][:3]) for v in violations])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"staff-{name}.png"), full_page=True)


def staff_login(page: Page, server: LiveServer, card_id: str, pin: str) -> None:
    page.goto(server.url + "/staff/login")
    check(page, "login")
    page.click("#open-reader")
    insert_card(page, card_id)
    page.wait_for_selector("#pin")
    page.fill("#pin", pin)
    page.click("form[action='/reader/sign'] button")
    page.wait_for_url(re.compile(r".*/staff/$"))


def test_a_clerks_read_is_shown_to_the_resident(kojin: Kojin, live_server: LiveServer, page: Page) -> None:
    person = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    person_card = card(kojin, person)
    clerk = next(m for m in seed_demo_staff(kojin) if m.role is Role.COUNTER_CLERK)

    page.goto(live_server.url + "/")
    assert page.locator("#staff-entrances li").count() == len(Role) - 1  # every role but the terminal's own
    staff_login(page, live_server, clerk.card_id, clerk.pin)
    assert clerk.display_name in page.inner_text("#staff-name")
    check(page, "home")

    page.click("#staff-tools a[href='/registry/counter']")
    check(page, "counter")
    page.fill("#resident_id", str(person.resident_id))
    page.click("#lookup button")  # no purpose chosen: the browser asks for one first
    assert page.locator("#resident").count() == 0
    page.select_option("#purpose", "住民票の写しの交付")
    page.click("#lookup button")
    page.wait_for_selector("#resident")
    assert "ヤマダ　タロウ" in page.inner_text("#resident")
    check(page, "counter-resident")
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/staff/login\?ended=bye$"))

    login(page, live_server, person_card.card_id)
    page.goto(live_server.url + "/portal/staff-looks")
    rows = page.locator("#staff-looks tr.staff-look")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "東京都文京区" in text and "窓口職員" in text and "住民票の写しの交付" in text and "閲覧" in text
    assert clerk.display_name not in page.content()  # the person sees the office, never the staff member
    check(page, "portal-staff-looks")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
