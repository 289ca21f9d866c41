"""Helpers for driving the portal and the reader as a browser would (no JavaScript).

:class:`Browser` wraps a TestClient with its own cookie jar, so two Browsers
are two people's browsers, and one Browser used by two people is a shared
terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any

import httpx2
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.card.issuance import IssuedCard
from kojin.registry.domain import Address, PersonDetails, Resident, Sex

TODAY = date(2026, 11, 24)
PIN = "1234"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").lower(), attrs=a)
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._current.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> Form:
    found = [f for f in forms(html) if f.action == action]
    assert found, f"no form posting to {action}"
    return found[0]


class Browser:
    """One browser: its own cookies, talking to one app."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, base_url=base_url, raise_server_exceptions=False, follow_redirects=True)

    def get(self, url: str, **kw: Any) -> httpx2.Response:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx2.Response:
        return self.client.post(url, data=data, **kw)

    def csrf(self) -> str:
        """The portal CSRF token of the current page (from the logout form)."""
        html = self.get("/portal/").text
        return form(html, "/portal/logout").fields["csrf_token"]

    # -- the login walk ---------------------------------------------------------------
    def start_login(self) -> str:
        """Open the portal's login page; return the reader URL it links to."""
        r = self.get("/portal/login")
        assert r.status_code == 200, r.text
        start = r.text.index('href="/reader/?') + len('href="')
        return r.text[start : r.text.index('"', start)].replace("&amp;", "&")

    def insert(self, reader_url: str, card_id: str) -> str:
        """Type the card's id into the reader's カードID field and insert it: the page after."""
        page = self.get(reader_url).text
        r = self.post("/reader/insert", dict(form(page, "/reader/insert").fields, card_id=card_id))
        assert r.status_code == 200, r.text
        return r.text

    def sign(self, page: str, pin: str) -> httpx2.Response:
        data = dict(form(page, "/reader/sign").fields)
        data["pin"] = pin
        return self.post("/reader/sign", data, follow_redirects=False)

    def answer_of(self, signed_page: str) -> dict[str, str]:
        return dict(form(signed_page, "/portal/login").fields)

    def login(self, card_id: str, pin: str = PIN) -> httpx2.Response:
        """The whole walk: login page → reader → insert → PIN → answer back to the portal."""
        page = self.insert(self.start_login(), card_id)
        signed = self.sign(page, pin)
        assert signed.status_code == 200, signed.text
        return self.post("/portal/login", self.answer_of(signed.text))


def resident(
    kojin: Kojin,
    name: str,
    kana: str,
    born: date,
    *,
    sex: Sex = Sex.MALE,
    head: int | None = None,
    relationship: str = "世帯主",
    block: str = "1",
) -> Resident:
    details = PersonDetails(name, kana, sex, born, Address("1130033", "", "", "", block))
    household = kojin.register.get(head).household_id if head is not None else None
    reg = kojin.register.register(
        details,
        municipality_code="13105",
        today=TODAY,
        household_id=household,
        relationship=relationship,
    )
    return reg.resident


def card(kojin: Kojin, person: Resident, pin: str = PIN) -> IssuedCard:
    adult = person.age_on(TODAY) >= 15
    return kojin.cards.issue(
        person.resident_id,
        auth_pin=pin,
        signature_password="ABC123" if adult else None,
        algorithm="p256",
        today=TODAY,
    )
