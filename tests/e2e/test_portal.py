"""The portal and the card reader in Debian's Chromium: login, PIN lock, history proofs, the account,
the shared terminal, a parent acting for a child, logout — with axe on every page and a screenshot of each.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import pytest

from kojin.agency.domain import CopyEntry
from kojin.app import Kojin
from kojin.demo.agencies import DEMO_AGENCIES
from kojin.reader.service import group_card_id
from kojin.registry.domain import Sex
from tests.e2e.conftest import ARTIFACTS, LiveServer, axe_violations, insert_card
from tests.portal.helpers import card, resident

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


class People:
    def __init__(self, kojin: Kojin) -> None:
        self.parent = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
        self.child = resident(
            kojin,
            "山田　花子",
            "ヤマダ　ハナコ",
            date(2016, 5, 5),
            sex=Sex.FEMALE,
            head=self.parent.resident_id,
            relationship="子",
        )
        self.neighbour = resident(kojin, "佐藤　京子", "サトウ　キョウコ", date(1975, 9, 9), sex=Sex.FEMALE, block="2")
        self.parent_card = card(kojin, self.parent)
        self.child_card = card(kojin, self.child)
        self.neighbour_card = card(kojin, self.neighbour)


def exchange(kojin: Kojin, people: People) -> None:
    """One exchange about the parent (文京区 asks 新宿区 for local tax), and a notice."""
    for agency_id, name, kind in DEMO_AGENCIES[:2]:
        kojin.agencies.create(agency_id, name=name, kind=kind)
    number = kojin.numbering.number_for(people.parent.juminhyo_code)
    asker, _ = kojin.agencies.obtain_code_unverified("13105", number)
    holder, _ = kojin.agencies.obtain_code_unverified("13104", number)
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    server.update_copies([CopyEntry(holder, "地方税関係情報", {"taxable_income": 3_200_000, "year": 2025})])
    kojin.agencies.client("13105").request("13104", "児童手当の支給に関する事務", "地方税関係情報", code=asker)
    kojin.portal.send_notice(
        people.parent.resident_id,
        sender_id="13105",
        title="児童手当の現況届について",
        body="今年から現況届の提出は不要です。",
    )


def check(page: Page, name: str) -> None:
    """axe finds nothing, and the page is kept as a screenshot."""
    violations = axe_violations(page)
    assert violations == [], (name, [(v["id"], [n["html"] for n in v["nodes"]][:3]) for v in violations])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def open_reader_and_insert(page: Page, server: LiveServer, card_id: str) -> None:
    page.goto(server.url + "/portal/login")
    page.click("#open-reader")
    insert_card(page, card_id)
    page.wait_for_selector("#inserted")


def login(page: Page, server: LiveServer, card_id: str, pin: str = "1234") -> None:
    open_reader_and_insert(page, server, card_id)
    page.fill("#pin", pin)
    page.click("form[action='/reader/sign'] button")
    page.wait_for_url(re.compile(r".*/portal/$"))


def test_login_every_page_proofs_and_logout(kojin: Kojin, live_server: LiveServer, page: Page) -> None:
    people = People(kojin)
    exchange(kojin, people)
    page.goto(live_server.url + "/")
    check(page, "landing")
    page.goto(live_server.url + "/portal/")
    check(page, "welcome")
    page.click("#login-link")
    check(page, "login")
    page.click("#open-reader")
    check(page, "reader")
    insert_card(page, people.parent_card.card_id)
    page.wait_for_selector("#pin")
    check(page, "reader-inserted")
    page.fill("#pin", "1234")
    page.click("form[action='/reader/sign'] button")
    page.wait_for_url(re.compile(r".*/portal/$"))
    assert "山田　太郎" in page.inner_text("h1")
    check(page, "home")

    page.goto(live_server.url + "/portal/me")
    assert "ヤマダ　タロウ" in page.inner_text("#register-facts")
    page.select_option("#option", "13104|地方税関係情報")
    page.click("#fetch-selfinfo")
    page.wait_for_selector("#selfinfo")
    assert "3200000" in page.inner_text("#selfinfo")
    check(page, "me")

    page.goto(live_server.url + "/portal/history")
    entries = page.locator("article.history-entry")
    assert entries.count() == 2  # the agencies' exchange, and the portal's own fetch just now
    first = entries.last  # oldest: 文京区 asked 新宿区
    assert "文京区長" in first.inner_text() and "新宿区長" in first.inner_text()
    first.locator(".verify-button").click()
    first.locator(".proof-badge").wait_for()
    assert first.locator(".proof-badge").inner_text() == "検証済み"
    check(page, "history")
    with page.expect_download() as download:
        first.get_by_text("証跡（JSON）をダウンロード").click()
    assert download.value.suggested_filename.startswith("kojin-proof-")
    first.get_by_text("詳細").click()
    page.wait_for_selector("h1")
    check(page, "history-entry")

    for path, name in (
        ("/portal/notices", "notices"),
        ("/portal/card", "card"),
        ("/portal/proxies", "proxies"),
        ("/portal/activity", "activity"),
        ("/portal/export", "export"),
        ("/portal/account", "account"),
        ("/portal/nowhere", "not-found"),
    ):
        page.goto(live_server.url + path)
        check(page, name)

    page.goto(live_server.url + "/portal/notices")
    page.click("form[action$='/read'] button")
    page.wait_for_selector("text=既読 ")
    with page.expect_download() as download:
        page.goto(live_server.url + "/portal/export")
        page.click("#export-button")
    assert download.value.suggested_filename.endswith(".zip")

    # English, one click away.
    page.goto(live_server.url + "/portal/me")
    page.click("header a[hreflang='en']")
    assert page.locator("html").get_attribute("lang") == "en" and "My information" in page.inner_text("h1")
    check(page, "me-en")
    page.click("header a[hreflang='ja']")

    page.click("#logout")
    page.wait_for_selector("#portal-message")
    assert "ログアウトしました" in page.inner_text("#portal-message")
    page.goto(live_server.url + "/portal/me")
    assert "山田" not in page.content()
    check(page, "logged-out")


def test_the_reader_shows_no_card_and_takes_the_id_as_printed(
    kojin: Kojin, live_server: LiveServer, page: Page
) -> None:
    people = People(kojin)
    page.goto(live_server.url + "/portal/login")
    page.click("#open-reader")
    html = page.content()
    for issued in (people.parent_card, people.child_card, people.neighbour_card):
        assert issued.card_id not in html
    insert_card(page, "0" * 32)
    assert "そのカードはありません" in page.inner_text("#reader-error")
    assert page.locator("#inserted").count() == 0
    check(page, "reader-no-such-card")
    insert_card(page, group_card_id(people.parent_card.card_id))
    page.wait_for_selector("#pin")
    assert people.neighbour_card.card_id not in page.content()


def test_three_wrong_pins_lock_the_card(kojin: Kojin, live_server: LiveServer, page: Page) -> None:
    people = People(kojin)
    open_reader_and_insert(page, live_server, people.parent_card.card_id)
    for left in (2, 1):
        page.fill("#pin", "0000")
        page.click("form[action='/reader/sign'] button")
        assert f"あと{left}回" in page.inner_text("#reader-error")
    check(page, "reader-wrong-pin")
    page.fill("#pin", "9999")
    page.click("form[action='/reader/sign'] button")
    assert "市区町村の窓口" in page.inner_text("#reader-error")
    assert page.locator("#pin").count() == 0
    check(page, "reader-locked")
    assert kojin.cards.status(people.parent_card.card_id).pin_tries["auth"] == 0


def test_account_is_registered_and_a_kana_mismatch_is_refused(
    kojin: Kojin, live_server: LiveServer, page: Page
) -> None:
    people = People(kojin)
    login(page, live_server, people.parent_card.card_id)
    page.goto(live_server.url + "/portal/account")

    def submit(number: str, holder: str) -> None:
        page.fill("#bank_code", "0005")
        page.fill("#branch_code", "123")
        page.select_option("#account_type", "ordinary")
        page.fill("#account_number", number)
        page.fill("#holder_kana", holder)
        page.click("#account-submit")

    submit("1234567", "ｻﾄｳ ｷﾖｳｺ")
    assert "一致しません" in page.inner_text("#account-error")
    check(page, "account-refused")
    assert kojin.portal.accounts.get(people.parent.resident_id) is None
    submit("1234567", "ﾔﾏﾀﾞ ﾀﾛｳ")
    page.wait_for_selector("#account-saved")
    assert "ヤマダ　タロウ" in page.inner_text("#account-current")
    check(page, "account-registered")
    # The card is lost: reported here, the session ends with it, and the card logs in no more.
    page.goto(live_server.url + "/portal/card")
    page.check("#lost-form input[name='confirm']")
    page.click("#lost-form button")
    page.wait_for_selector("#lost-done")
    assert page.locator("#logout").count() == 0
    check(page, "card-lost")
    login_attempt = live_server.url + "/portal/login"
    page.goto(login_attempt)
    page.click("#open-reader")
    insert_card(page, people.parent_card.card_id)
    page.fill("#pin", "1234")
    page.click("form[action='/reader/sign'] button")
    page.wait_for_selector("#login-error")
    check(page, "login-failed")


def test_shared_terminal_the_next_card_ends_the_previous_session(
    kojin: Kojin, live_server: LiveServer, page: Page
) -> None:
    people = People(kojin)
    login(page, live_server, people.parent_card.card_id)
    page.goto(live_server.url + "/portal/me")
    assert "山田　太郎" in page.content()
    # B sits down at the same browser and puts a card in the reader; A never logged out.
    page.goto(live_server.url + "/reader/")
    insert_card(page, people.neighbour_card.card_id)
    page.goto(live_server.url + "/portal/me")
    assert "山田" not in page.content() and "portal.session_ended" in page.url
    check(page, "shared-terminal-ended")
    login(page, live_server, people.neighbour_card.card_id)
    page.goto(live_server.url + "/portal/me")
    assert "佐藤　京子" in page.content() and "山田" not in page.content()


def test_a_parent_acts_for_a_child(kojin: Kojin, live_server: LiveServer, page: Page) -> None:
    people = People(kojin)
    login(page, live_server, people.parent_card.card_id)
    page.select_option("#acting", label="山田　花子（法定代理人（親））")
    page.click("#acting-form button")
    page.wait_for_selector("#acting-banner")
    check(page, "acting-home")
    page.goto(live_server.url + "/portal/me")
    assert "ヤマダ　ハナコ" in page.inner_text("#register-facts")
    check(page, "acting-me")
    page.click("#acting-banner button")
    page.wait_for_url(re.compile(r".*/portal/$"))
    assert page.locator("#acting-banner").count() == 0
    page.goto(live_server.url + "/portal/activity")
    assert "山田　花子" in page.inner_text("#activity")
