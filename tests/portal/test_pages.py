"""Pages: friendly errors, size limits, the language toggle, the catalog, static files, the landing page."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.web.i18n import catalog_path
from tests.portal.conftest import Town
from tests.portal.helpers import Browser

SRC = Path(__file__).resolve().parents[2] / "src" / "kojin"


def test_every_template_text_has_an_english_translation() -> None:
    with catalog_path("en").open("rb") as f:
        catalog = read_po(f)
    missing = []
    for part in ("web", "portal", "reader", "staff"):
        for filename, lineno, message, _c, _x in extract_from_dir(
            SRC / part / "templates",
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        ):
            entry = catalog.get(message)
            if entry is None or not entry.string or entry.fuzzy:
                missing.append(f"{part}/{filename}:{lineno} {message}")
    assert missing == []


def test_english_is_one_click_away_and_sticks(town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    home = b.get("/portal/")
    assert '<html lang="ja">' in home.text and "English" in home.text
    r = b.get("/lang", params={"to": "en", "next": "/portal/"})
    assert str(r.url).endswith("/portal/") and '<html lang="en">' in r.text
    assert "Log in with your My Number card" in r.text
    assert '<html lang="en">' in b.login(town.parent.card.card_id).text
    assert "My information" in b.get("/portal/me").text
    assert "Card in the reader" in b.get("/reader/").text
    b.get("/lang", params={"to": "ja", "next": "/portal/"})
    assert "わたしの情報" in b.get("/portal/me").text
    # The toggle only ever leads back into this site.
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        r = b.client.get("/lang", params={"to": "en", "next": target}, follow_redirects=False)
        assert r.headers["location"] == "/"


def test_errors_are_friendly_pages_and_never_tracebacks(town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    r = b.get("/portal/nowhere")
    assert r.status_code == 404 and "<html" in r.text and "ページが見つかりません" in r.text
    assert r.headers["cache-control"] == "no-store" and "default-src 'self'" in r.headers["content-security-policy"]
    b.login(town.parent.card.card_id)
    csrf = b.csrf()
    # Oversized body: refused before it is read whole.
    r = b.post("/portal/account", {"csrf_token": csrf, "holder_kana": "ア" * 40_000})
    assert r.status_code == 413 and "request.too_large" in r.text
    # Oversized and malformed fields: the field is named.
    for data, code in (
        ({"holder_kana": "ア" * 500}, "form.too_long"),
        ({"holder_kana": "ヤマダ\x00タロウ"}, "form.control"),
        ({"bank_code": ["0001", "0002"]}, "form.repeated"),
    ):
        r = b.post("/portal/account", {"csrf_token": csrf, **data})
        assert r.status_code == 422 and code in r.text and "Traceback" not in r.text, code
    # htmx requests get a fragment, not a whole page.
    r = b.post("/portal/me/fetch", {"csrf_token": csrf, "option": "nope"}, headers={"HX-Request": "true"})
    assert r.status_code == 404 and "<html" not in r.text and 'role="alert"' in r.text


def test_static_files_are_served_from_the_package_and_no_page_uses_a_cdn(app: FastAPI) -> None:
    client = TestClient(app)
    js = client.get("/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]
    assert (resources.files("kojin.web") / "static" / "htmx.min.js").is_file()
    assert client.get("/static/kojin.css").status_code == 200
    for part in ("web", "portal", "reader", "staff"):
        for template in (SRC / part / "templates").rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text and "//cdn" not in text, template


def test_the_landing_page_links_every_entrance(app: FastAPI) -> None:
    html = TestClient(app).get("/").text
    for href in ('href="/portal/"', 'href="/reader/"', 'href="/docs"'):
        assert href in html
    assert "医療機関" in html and "コンビニ交付" in html


def test_portal_pages_fit_a_phone(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    for url in ("/portal/", "/portal/me", "/portal/account"):
        html = b.get(url).text
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
        assert "<table" not in html  # lists, not wide tables, on a 390 px screen
