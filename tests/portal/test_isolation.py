"""No URL, form or API lets a resident read another resident's data: the session decides whose data."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from kojin.app import Kojin
from tests.portal.conftest import Town
from tests.portal.helpers import Browser, forms

PAGES = (
    "/portal/",
    "/portal/me",
    "/portal/history",
    "/portal/account",
    "/portal/notices",
    "/portal/card",
    "/portal/proxies",
    "/portal/activity",
    "/portal/export",
)


def test_no_portal_url_or_form_carries_a_resident_id(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    ids = {str(p.rid) for p in (town.parent, town.child, town.teen, town.neighbour)}
    for url in PAGES:
        html = b.get(url).text
        targets = re.findall(r'(?:href|action|hx-post)="([^"]*)"', html)
        for target in targets:
            assert "resident" not in target, (url, target)
            # Path segments name the portal's own records (checked against the session); no query names a person.
            query = parse_qs(urlparse(target.replace("&amp;", "&")).query)
            assert not {v for values in query.values() for v in values} & ids, (url, target)
        for f in forms(html):
            assert not {k for k in f.fields if "resident" in k or k in ("id", "rid", "household")}, (url, f)
        assert town.parent.resident.juminhyo_code not in html


def test_other_ids_in_urls_and_forms_are_ignored_or_not_found(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    notice = kojin.portal.notices.send(
        town.neighbour.rid, sender_id="x", sender_name="文京区長", title="お知らせ", body="佐藤さんへ"
    )
    b = browser()
    b.login(town.parent.card.card_id)
    other = town.neighbour.rid
    for url in (
        f"/portal/me?resident_id={other}",
        f"/portal/me?rid={other}",
        f"/portal/account?resident={other}",
        f"/portal/notices?resident_id={other}",
    ):
        html = b.get(url).text
        assert "佐藤" not in html and "サトウ" not in html, url
    for url in (f"/portal/residents/{other}", f"/portal/me/{other}", f"/portal/account/{other}"):
        r = b.get(url)
        assert r.status_code == 404 and "<html" in r.text and "Traceback" not in r.text
    # Another person's notice cannot be read or marked, and looks exactly like none at all.
    r = b.post(f"/portal/notices/{notice}/read", {"csrf_token": b.csrf()})
    missing = b.post("/portal/notices/987654/read", {"csrf_token": b.csrf()})
    assert r.status_code == missing.status_code == 404 and "notice.not_found" in r.text
    assert kojin.portal.notices.of(other)[0].read_at is None
    # Extra fields naming someone else change nothing about them.
    r = b.post(
        "/portal/account",
        {
            "csrf_token": b.csrf(),
            "resident_id": str(other),
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": "ordinary",
            "account_number": "7654321",
            "holder_kana": "サトウ　キョウコ",
        },
    )
    assert r.status_code == 422 and kojin.portal.accounts.get(other) is None
    r = b.post(
        "/portal/card/lost",
        {"csrf_token": b.csrf(), "card": "0", "confirm": "yes", "card_id": town.neighbour.card.card_id},
    )
    assert kojin.cards.status(town.neighbour.card.card_id).status == "active"
    assert kojin.cards.status(town.parent.card.card_id).status == "lost"  # "card 0" is always one's own


def test_api_style_errors_keep_the_json_shape(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    r = b.get("/registry/residents/999999")  # a person's portal session is no staff credential
    assert r.status_code == 401 and r.json()["error"]["code"] == "staff.token_missing"
    r = b.get("/no/such/api")
    assert r.status_code == 404 and r.json()["error"]["code"] == "http.not_found"
