"""The card-reader app: what it shows without a PIN, its slot cookie, its CSRF, where it may answer."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.reader.service import ReaderService, group_card_id
from tests.portal.conftest import Town
from tests.portal.helpers import Browser, form, forms


@pytest.fixture
def b(kojin: Kojin) -> Iterator[Browser]:
    yield Browser(create_app(kojin))


def login_query(b: Browser) -> str:
    return b.start_login().split("?", 1)[1]


def test_the_reader_lists_no_card_and_reads_only_the_inserted_one_without_a_pin(
    kojin: Kojin, town: Town, b: Browser
) -> None:
    page = b.get("/reader/").text
    assert 'id="cards"' not in page and 'name="card_id"' in page
    for person in (town.parent, town.neighbour):
        assert person.card.card_id not in page
        assert person.resident.name not in page  # the card gives no name without a PIN
    inserted = b.insert("/reader/", town.parent.card.card_id)
    assert str(town.parent.card.auth_serial) in inserted and 'id="tries-left">3<' in inserted
    assert town.parent.card.card_id in inserted and town.neighbour.card.card_id not in inserted
    assert "山田" not in inserted
    # Without a login request there is nothing to sign.
    assert not [f for f in forms(inserted) if f.action == "/reader/sign"]


def test_reader_posts_need_the_readers_csrf_token(kojin: Kojin, town: Town, b: Browser) -> None:
    page = b.get("/reader/").text
    data = dict(form(page, "/reader/insert").fields)
    for token in ("", "x" * 30):
        r = b.post("/reader/insert", dict(data, reader_csrf=token))
        assert r.status_code == 403 and "csrf.invalid" in r.text
    r = b.post("/reader/insert", {k: v for k, v in data.items() if k != "reader_csrf"})
    assert r.status_code == 403


def test_the_reader_answers_only_to_known_relying_parties(town: Town, b: Browser) -> None:
    query = login_query(b)
    for bad in (
        query.replace("return=%2Fportal%2Flogin", "return=https%3A%2F%2Fevil.example%2F"),
        query.replace("return=%2Fportal%2Flogin", "return=%2Fportal%2Fme"),
        query.replace("state=", "state=%3C"),
        "challenge=hello&state=x&return=%2Fportal%2Flogin",
    ):
        r = b.get(f"/reader/?{bad}")
        assert r.status_code == 404 and "reader.bad_request" in r.text and "Traceback" not in r.text
    page = b.insert(f"/reader/?{query}", town.parent.card.card_id)
    data = dict(form(page, "/reader/sign").fields, pin="1234")
    r = b.post("/reader/sign", dict(data, **{"return": "https://evil.example/"}))
    assert r.status_code == 404


def test_an_id_of_no_card_is_refused_as_a_missing_card_and_changes_nothing(
    kojin: Kojin, town: Town, b: Browser
) -> None:
    query = login_query(b)
    b.insert(f"/reader/?{query}", town.parent.card.card_id)
    before = b.client.cookies.get("kojin_reader")
    page = b.get(f"/reader/?{query}").text
    data = dict(form(page, "/reader/insert").fields)
    near = town.parent.card.card_id[:-1] + ("0" if town.parent.card.card_id[-1] != "0" else "1")
    answers = set()
    for card_id in (near, secrets.token_hex(16), "../../etc/passwd", "nope", "a" * 64, "a" * 100):
        r = b.post("/reader/insert", dict(data, card_id=card_id))
        assert r.status_code == 404 and "reader.no_card" in r.text and "Traceback" not in r.text
        assert 'id="reader-error"' in r.text and 'id="pin"' in r.text  # still on the reader, the login kept
        assert card_id not in r.text.replace(town.parent.card.card_id, "")
        answers.add(re.sub(r'value="[^"]*"', "", r.text))
        assert b.client.cookies.get("kojin_reader") == before  # the same card, the same insertion
    assert len(answers) == 1  # a near miss and nonsense get the same page: nothing said about which ids exist
    for bad in ("", "a" * 101):
        r = b.post("/reader/insert", dict(data, card_id=bad))
        assert r.status_code == 422 and "Traceback" not in r.text
    assert b.client.cookies.get("kojin_reader") == before


def test_a_card_id_typed_as_printed_goes_in(town: Town, b: Browser) -> None:
    card_id = town.parent.card.card_id
    grouped = group_card_id(card_id)
    assert grouped.replace(" ", "") == card_id and len(grouped.split(" ")) == 8
    full_width = card_id.upper().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    for typed in (grouped, f"  {grouped.replace(' ', '-')} ", grouped.upper(), full_width):
        page = b.insert("/reader/", typed)
        assert 'id="inserted"' in page and str(town.parent.card.auth_serial) in page
        b.post("/reader/remove", dict(form(page, "/reader/remove").fields))
    assert 'id="empty-slot"' in b.get("/reader/").text


@pytest.mark.parametrize(
    ("host", "listed"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("192.0.2.7", False), ("", False)],
)
def test_the_list_of_every_card_is_demo_mode_on_a_loopback_address_only(
    kojin: Kojin, town: Town, monkeypatch: pytest.MonkeyPatch, host: str, listed: bool
) -> None:
    monkeypatch.setattr(kojin, "settings", replace(kojin.settings, demo_cards=True, bind_host=host))
    page = Browser(create_app(kojin)).get("/reader/").text
    assert ('id="cards"' in page) is listed
    for person in (town.parent, town.neighbour):
        assert (person.card.card_id in page) is listed
    if listed:  # a listed card goes in with one click, as typing its id would
        choose = [f for f in forms(page) if f.fields.get("card_id") == town.parent.card.card_id]
        assert choose and choose[0].action == "/reader/insert"


def test_a_tampered_slot_cookie_is_an_empty_slot(kojin: Kojin, town: Town, b: Browser) -> None:
    b.insert("/reader/", town.parent.card.card_id)
    reader = ReaderService(kojin.cards)
    cookie = b.client.cookies.get("kojin_reader")
    slot = reader.decode(cookie)
    assert slot is not None and slot.card_id == town.parent.card.card_id
    forged = reader.encode(slot).split(".")[0] + ".AAAA"
    assert reader.decode(forged) is None
    page = TestClient(b.client.app, cookies={"kojin_reader": forged}).get("/reader/").text
    assert 'id="empty-slot"' in page


def test_signing_needs_an_inserted_card(town: Town, b: Browser) -> None:
    query = login_query(b)
    page = b.get(f"/reader/?{query}").text
    csrf = form(page, "/reader/insert").fields["reader_csrf"]
    fields = dict(form(page, "/reader/insert").fields)
    fields.pop("card_id", None)
    r = b.post("/reader/sign", dict(fields, reader_csrf=csrf, pin="1234"))
    assert r.status_code == 404 and "reader.no_card" in r.text
