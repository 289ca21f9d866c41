"""Sessions that cannot leak to the next person: shared terminals, timeouts, logout, CSRF, workers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, select

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.portal.sessions import SessionEnded
from kojin.portal.store import sessions as table
from tests.portal.conftest import Town
from tests.portal.helpers import Browser, form


def rows(kojin: Kojin) -> list[Row[Any]]:
    with kojin.portal.engine.connect() as conn:
        return list(conn.execute(select(table)).all())


def active(kojin: Kojin) -> list[Row[Any]]:
    return [r for r in rows(kojin) if r.state == "active"]


def test_shared_terminal_the_next_card_ends_the_previous_session(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    """A logs in; B, at the same browser, puts a card in without A logging out (the 748 accounts)."""
    terminal = browser()
    assert "山田　太郎" in terminal.login(town.parent.card.card_id).text
    csrf_a = terminal.csrf()
    # B opens the reader on its own and inserts a card: A's session ends at once.
    terminal.insert("/reader/", town.neighbour.card.card_id)
    assert active(kojin) == []
    me = terminal.get("/portal/me")
    assert "山田　太郎" not in me.text and "portal.session_ended" in str(me.url)
    # A's old page cannot change anything in A's name any more.
    r = terminal.post(
        "/portal/account",
        {
            "csrf_token": csrf_a,
            "bank_code": "0001",
            "branch_code": "001",
            "account_type": "ordinary",
            "account_number": "1234567",
            "holder_kana": "ヤマダ　タロウ",
        },
    )
    assert r.status_code == 401 and kojin.portal.accounts.get(town.parent.rid) is None
    # B logs in and sees only B.
    page = terminal.login(town.neighbour.card.card_id)
    assert "佐藤　京子" in page.text and "山田" not in page.text
    assert "山田" not in terminal.get("/portal/me").text
    (session,) = active(kojin)
    assert session.resident_id == town.neighbour.rid


def test_a_new_login_ends_the_session_in_that_browser(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    terminal = browser()
    terminal.login(town.parent.card.card_id)
    old_cookie = terminal.client.cookies.get("kojin_portal")
    terminal.start_login()
    assert active(kojin) == []
    # The old cookie is worthless even if someone kept it.
    stale = browser()
    stale.client.cookies.set("kojin_portal", old_cookie or "")
    assert "山田" not in stale.get("/portal/me").text
    # A login with another card in the same browser shows only that person.
    assert "佐藤　京子" in terminal.login(town.neighbour.card.card_id).text


def test_taking_the_card_out_ends_the_session(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    page = b.get("/reader/").text
    b.post("/reader/remove", form(page, "/reader/remove").fields)
    assert active(kojin) == []
    assert "portal.session_ended" in str(b.get("/portal/").url) or "ログイン" in b.get("/portal/").text


def test_idle_sessions_time_out(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    csrf = b.csrf()
    now = time.time()
    kojin.portal.sessions.clock = lambda: now + kojin.portal.sessions.idle_seconds + 5
    r = b.get("/portal/me")
    assert "portal.session_timeout" in str(r.url) and "一定時間操作がなかった" in r.text
    assert active(kojin) == []
    r = b.post(
        "/portal/account",
        {
            "csrf_token": csrf,
            "bank_code": "0001",
            "branch_code": "001",
            "account_type": "ordinary",
            "account_number": "1234567",
            "holder_kana": "ヤマダ　タロウ",
        },
    )
    assert r.status_code == 401 and "Traceback" not in r.text
    assert kojin.portal.accounts.get(town.parent.rid) is None


def test_activity_keeps_a_session_alive_and_expired_rows_are_purged(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    start = time.time()
    store = kojin.portal.sessions
    store.clock = lambda: start + store.idle_seconds - 10
    assert b.get("/portal/me").status_code == 200
    store.clock = lambda: start + store.idle_seconds + 20  # idle counts from the last request
    assert "山田　太郎" in b.get("/portal/me").text
    store.clock = lambda: start + store.max_seconds + 1  # but no session lives for ever
    assert "portal.session_timeout" in str(b.get("/portal/me").url)
    other = browser()
    other.login(town.neighbour.card.card_id)
    store.clock = lambda: start + 10 * store.max_seconds
    assert store.purge_expired() == 1 and rows(kojin) == []


def test_logout_needs_the_csrf_token_and_ends_the_session(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    r = b.post("/portal/logout", {})
    assert r.status_code == 403 and "csrf.invalid" in r.text and len(active(kojin)) == 1
    r = b.post("/portal/logout", {"csrf_token": b.csrf()})
    assert r.status_code == 200 and "ログアウトしました" in r.text
    assert active(kojin) == []
    assert kojin.portal.activity.for_person(town.parent.rid)[0].action == "logout"


def test_every_post_needs_the_sessions_csrf_token(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    a, b = browser(), browser()
    a.login(town.parent.card.card_id)
    b.login(town.neighbour.card.card_id)
    account = {
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "ordinary",
        "account_number": "1234567",
        "holder_kana": "ヤマダ　タロウ",
    }
    posts = {
        "/portal/account": account,
        "/portal/acting": {"acting": "x"},
        "/portal/proxies/invite": {"scope": "me"},
        "/portal/proxies/accept": {"code": "x"},
        "/portal/proxies/revoke": {"proxy": "x"},
        "/portal/card/lost": {"card": "0", "confirm": "yes"},
        "/portal/export": {},
        "/portal/me/fetch": {"option": "x"},
        "/portal/notices/1/read": {},
        "/portal/history/0/verify": {},
        "/portal/logout": {},
    }
    for url, data in posts.items():
        for token in (None, "", b.csrf()):  # missing, empty, another session's
            sent = dict(data) if token is None else dict(data, csrf_token=token)
            r = a.post(url, sent)
            assert r.status_code == 403 and "csrf.invalid" in r.text, (url, token, r.status_code)
    assert kojin.portal.accounts.get(town.parent.rid) is None
    assert kojin.cards.status(town.parent.card.card_id).status == "active"
    # The htmx header carries the token as well as the field does.
    r = a.post("/portal/account", account, headers={"X-CSRF-Token": a.csrf()})
    assert r.status_code == 200 and kojin.portal.accounts.get(town.parent.rid) is not None


def test_sessions_are_shared_by_every_worker(
    kojin: Kojin, town: Town, browser: Callable[..., Browser], settings: Settings
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    token = b.client.cookies.get("kojin_portal")
    second = build(settings, migrate=False)  # another worker process over the same stores
    try:
        assert second.portal.context(token).user.resident_id == town.parent.rid
        second.portal.logout(token)
    finally:
        second.close()
    try:
        kojin.portal.context(token)
        raise AssertionError("the session should have ended in every worker")
    except SessionEnded:
        pass
