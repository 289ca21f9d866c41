"""Login with the card through the reader: PINs, forged and replayed answers, cookies."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy import Row

from kojin.app import Kojin
from tests.portal.conftest import Town
from tests.portal.helpers import Browser, forms


def sessions(kojin: Kojin) -> list[Row[Any]]:
    from sqlalchemy import select

    from kojin.portal.store import sessions as table

    with kojin.portal.engine.connect() as conn:
        return list(conn.execute(select(table)).all())


def test_login_opens_a_session_bound_to_the_card_insertion(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    b = browser()
    r = b.login(town.parent.card.card_id)
    assert r.status_code == 200 and "山田　太郎" in r.text and "/portal/logout" in r.text
    (row,) = sessions(kojin)
    assert row.state == "active" and row.resident_id == town.parent.rid
    assert row.card_id == town.parent.card.card_id
    assert int(row.auth_serial) == town.parent.card.auth_serial
    assert len(row.insertion_id) >= 16
    cookie = b.client.cookies.get("kojin_portal")
    assert cookie and cookie != row.token_hash and cookie not in str(row)
    assert [e.action for e in kojin.portal.activity.for_person(town.parent.rid)] == ["login"]
    # The PIN was typed into the reader only: the portal's pages never ask for it.
    assert 'name="pin"' not in b.get("/portal/login").text


def test_cookie_settings_over_http_and_https(town: Town, browser: Callable[..., Browser]) -> None:
    plain = browser()
    plain.start_login()
    header = plain.client.get("/portal/login").headers["set-cookie"]
    assert header.startswith("kojin_portal=") and "HttpOnly" in header and "SameSite=strict" in header
    assert "Secure" not in header
    secure = browser(base_url="https://testserver")
    r = secure.login(town.parent.card.card_id)
    assert r.status_code == 200 and "山田　太郎" in r.text
    login_header = secure.client.get("/portal/login").headers["set-cookie"]
    assert login_header.startswith("__Host-kojin_portal=")
    assert "Secure" in login_header and "Path=/" in login_header and "HttpOnly" in login_header


def test_wrong_pins_show_tries_left_and_three_lock_the_card(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    b = browser()
    page = b.insert(b.start_login(), town.parent.card.card_id)
    first = b.sign(page, "0000")
    assert first.status_code == 401 and "あと2回" in first.text
    second = b.sign(first.text, "9999")
    assert second.status_code == 401 and "あと1回" in second.text
    third = b.sign(second.text, "1111")
    assert third.status_code == 403 and "市区町村の窓口" in third.text
    assert kojin.cards.status(town.parent.card.card_id).pin_tries["auth"] == 0
    # Locked: the reader no longer offers the PIN field, and the right PIN does not help.
    again = b.get(b.start_login())
    assert "ロック中" in again.text
    assert not [f for f in forms(again.text) if f.action == "/reader/sign"]
    assert sessions(kojin) and all(r.state == "pending" for r in sessions(kojin))


def test_a_malformed_pin_costs_no_try(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    page = b.insert(b.start_login(), town.parent.card.card_id)
    r = b.sign(page, "12a")
    assert r.status_code == 422 and "4桁" in r.text
    assert kojin.cards.status(town.parent.card.card_id).pin_tries["auth"] == 3


def test_a_replayed_answer_is_refused(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    page = b.insert(b.start_login(), town.parent.card.card_id)
    answer = b.answer_of(b.sign(page, "1234").text)
    assert "山田　太郎" in b.post("/portal/login", answer).text
    # The same answer again, in the same browser: the login it answered is spent.
    replay = b.post("/portal/login", answer)
    assert replay.status_code == 403 and "Traceback" not in replay.text
    assert sessions(kojin) == []  # and the session that was open has ended with the refusal
    # Even with this login's own state token, the old challenge is not this login's.
    reader_url = b.start_login()
    state = parse_qs(urlparse(reader_url).query)["state"][0]
    r = b.post("/portal/login", dict(answer, csrf_token=state))
    assert r.status_code == 401 and "portal.challenge_mismatch" in r.text
    assert sessions(kojin) == []


def test_an_answer_carried_to_another_browser_is_refused(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    victim, attacker = browser(), browser()
    # The attacker signs a login with their own card and tries to plant it in the victim's browser.
    page = attacker.insert(attacker.start_login(), town.neighbour.card.card_id)
    answer = attacker.answer_of(attacker.sign(page, "1234").text)
    victim.start_login()
    r = victim.post("/portal/login", answer)
    assert r.status_code == 403 and "csrf.invalid" in r.text
    assert not [s for s in sessions(kojin) if s.state == "active"]


def test_forged_and_malformed_answers(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    def fresh_answer(b: Browser) -> dict[str, str]:
        page = b.insert(b.start_login(), town.parent.card.card_id)
        return b.answer_of(b.sign(page, "1234").text)

    b = browser()
    good = fresh_answer(b)
    sig = bytearray(base64.b64decode(good["signature"]))
    sig[-1] ^= 1
    r = b.post("/portal/login", dict(good, signature=base64.b64encode(bytes(sig)).decode()))
    assert r.status_code == 401 and "auth.bad_signature" in r.text
    for field, value, code in (
        ("signature", "***not base64***", "portal.bad_answer"),
        ("certificate", "", "portal.bad_answer"),
        ("insertion_id", "x", "portal.bad_answer"),
        ("challenge", "kojin-challenge/1.portal.1.AAAA.BBBB", "portal.challenge_mismatch"),
        ("certificate", "A" * 20_000, "form.too_long"),
    ):
        r = b.post("/portal/login", dict(fresh_answer(b), **{field: value}))
        assert r.status_code in (401, 403, 422), (field, r.status_code)
        assert code in r.text and "Traceback" not in r.text, (field, r.text[-500:])
    assert not [s for s in sessions(kojin) if s.state == "active"]


def test_a_lost_card_cannot_log_in(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    earlier = browser()
    earlier.login(town.parent.card.card_id)  # used once: its OCSP answer "good" is cached now
    kojin.cards.report_lost(town.parent.card.card_id)  # at the counter, not through the portal
    r = browser().login(town.parent.card.card_id)
    assert r.status_code == 401 and "ログインできませんでした" in r.text and "portal.card_revoked" in r.text
    # The session opened before the loss ends on its next request.
    assert "山田" not in earlier.get("/portal/me").text
    assert not [s for s in sessions(kojin) if s.state == "active"]


def test_register_finds_a_person_by_juminhyo_code(kojin: Kojin, town: Town) -> None:
    found = kojin.register.find_by_code(town.parent.resident.juminhyo_code)
    assert found is not None and found.resident_id == town.parent.rid
    assert kojin.register.find_by_code("00000000000") is None
