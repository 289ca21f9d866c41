"""The card-reader app: what it shows without a PIN, its slot cookie, its CSRF, where it may answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.reader.service import ReaderService
from tests.portal.conftest import Town
from tests.portal.helpers import Browser, form, forms


@pytest.fixture
def b(kojin: Kojin) -> Iterator[Browser]:
    yield Browser(create_app(kojin))


def login_query(b: Browser) -> str:
    return b.start_login().split("?", 1)[1]


def test_the_reader_lists_card_ids_only_and_reads_the_certificate_without_a_pin(
    kojin: Kojin, town: Town, b: Browser
) -> None:
    page = b.get("/reader/").text
    for person in (town.parent, town.neighbour):
        assert person.card.card_id in page
        assert person.resident.name not in page  # the card gives no name without a PIN
    inserted = b.insert("/reader/", town.parent.card.card_id)
    assert str(town.parent.card.auth_serial) in inserted and 'id="tries-left">3<' in inserted
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


def test_unknown_or_malicious_card_ids_are_not_found(town: Town, b: Browser) -> None:
    page = b.get("/reader/").text
    data = dict(form(page, "/reader/insert").fields)
    for card_id in ("../../etc/passwd", "nope", "", "a" * 65):
        r = b.post("/reader/insert", dict(data, card_id=card_id))
        assert r.status_code in (404, 422) and "Traceback" not in r.text


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
