"""Staff web sessions through the card reader: login, home, logout with CSRF, timeouts, card removal."""

from __future__ import annotations

import time
from datetime import date

import httpx2
import pytest

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.service import StaffService
from tests.portal.helpers import Browser, form, forms, resident
from tests.portal.helpers import card as resident_card
from tests.staff.helpers import PIN, staff_with_card


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(kojin: Kojin) -> Clock:
    """kojin's staff service on a clock the test moves (10 minutes idle, 8 hours in all)."""
    moved = Clock()
    kojin.staff = StaffService(
        kojin.staff.engine,
        cards=kojin.staff.login.verifier,
        clock=moved,
        idle_seconds=600,
        max_seconds=8 * 3600,
    )
    return moved


def staff_login(b: Browser, card_id: str, pin: str = PIN) -> httpx2.Response:
    """The walk: /staff/login → reader → insert the staff card → PIN → answer back to /staff/login."""
    page = b.get("/staff/login")
    assert page.status_code == 200, page.text
    start = page.text.index('href="/reader/?') + len('href="')
    reader_url = page.text[start : page.text.index('"', start)].replace("&amp;", "&")
    inserted = b.insert(reader_url, card_id)
    signed = b.sign(inserted, pin)
    assert signed.status_code == 200, signed.text
    return b.post("/staff/login", dict(form(signed.text, "/staff/login").fields))


def remove_card(b: Browser) -> None:
    page = b.get("/reader/").text
    removal = [f for f in forms(page) if f.action == "/reader/remove"]
    assert removal, "no remove form"
    b.post("/reader/remove", removal[0].fields)


def test_login_through_the_reader_opens_the_staff_home(kojin: Kojin, clock: Clock) -> None:
    holder = staff_with_card(kojin)
    b = Browser(create_app(kojin))
    home = staff_login(b, holder.card.card_id)
    assert home.status_code == 200 and str(home.url).endswith("/staff/")
    assert "田中　一郎" in home.text and "窓口職員" in home.text and "municipality:131016" in home.text
    english = b.get("/lang", params={"to": "en", "next": "/staff/"})
    assert "counter clerk" in english.text and "Staff home" in english.text
    principal = kojin.staff.check_session(b.client.cookies.get("kojin_staff"))
    assert principal.staff_id == holder.staff_id and principal.token_id
    # Logout by the principal's token id ends the session as a token's logout would.
    kojin.staff.revoke_token(principal)
    assert "/staff/login" in str(b.get("/staff/").url)


def test_logout_needs_the_sessions_csrf_token(kojin: Kojin, clock: Clock) -> None:
    holder = staff_with_card(kojin)
    b = Browser(create_app(kojin))
    home = staff_login(b, holder.card.card_id)
    logout = form(home.text, "/staff/logout")
    refused = b.post("/staff/logout", {"csrf_token": "forged-" + logout.fields["csrf_token"]})
    assert refused.status_code == 403
    assert b.get("/staff/").status_code == 200 and "田中　一郎" in b.get("/staff/").text
    done = b.post("/staff/logout", logout.fields)
    assert str(done.url).endswith("/staff/login?ended=bye") and "ログアウトしました" in done.text
    assert "/staff/login" in str(b.get("/staff/").url)


def test_idle_and_absolute_timeouts_end_the_session(kojin: Kojin, clock: Clock) -> None:
    holder = staff_with_card(kojin)
    b = Browser(create_app(kojin))
    staff_login(b, holder.card.card_id)
    token = b.client.cookies.get("kojin_staff")
    clock.now += 601
    with pytest.raises(Exception) as idle:
        kojin.staff.check_session(token)
    assert getattr(idle.value, "code", None) == "staff.session_timeout"

    staff_login(b, holder.card.card_id)
    token = b.client.cookies.get("kojin_staff")
    for _ in range(50):  # busy all day: never idle, still ends after 8 hours
        clock.now += 590
        try:
            kojin.staff.check_session(token)
        except Exception as exc:
            assert getattr(exc, "code", None) == "staff.session_timeout"
            break
    else:
        pytest.fail("the session outlived its absolute limit")
    assert clock.now - time.time() >= 8 * 3600 - 600


def test_taking_the_card_out_ends_the_session(kojin: Kojin, clock: Clock) -> None:
    holder = staff_with_card(kojin)
    b = Browser(create_app(kojin))
    staff_login(b, holder.card.card_id)
    assert b.get("/staff/").status_code == 200
    remove_card(b)
    ended = b.get("/staff/")
    assert "/staff/login" in str(ended.url) and "staff.session_ended" in str(ended.url)


def test_revoking_the_card_ends_the_session(kojin: Kojin, clock: Clock) -> None:
    holder = staff_with_card(kojin)
    b = Browser(create_app(kojin))
    staff_login(b, holder.card.card_id)
    kojin.staff.revoke_card(holder.staff_id)
    assert "/staff/login" in str(b.get("/staff/").url)


def test_a_residents_card_cannot_log_in_as_staff_nor_a_staff_card_to_the_portal(kojin: Kojin, clock: Clock) -> None:
    holder = staff_with_card(kojin)
    person = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    issued = resident_card(kojin, person)
    b = Browser(create_app(kojin))
    refused = staff_login(b, issued.card_id, "1234")
    assert refused.status_code == 401 and "staff.not_staff_card" in refused.text
    portal = b.login(holder.card.card_id, PIN)
    assert portal.status_code in (401, 403) and "pki.foreign_ca" in portal.text
    assert b.get("/portal/").status_code == 200 and 'action="/portal/logout"' not in b.get("/portal/").text
