"""The terminal's pages without a browser: each refusal shows its result code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx2
import pytest

from kojin.entrypoints.http.app import create_app
from tests.clinic.world import PIN, World
from tests.portal.helpers import Browser, form


def sign_in(b: Browser, clinic_id: str, key: str) -> httpx2.Response:
    """The login form as a browser fills it: its CSRF token from the page (and its cookie)."""
    token = form(b.get("/clinic/").text, "/clinic/login").fields["csrf_token"]
    return b.post("/clinic/login", {"clinic_id": clinic_id, "key": key, "csrf_token": token})


@pytest.fixture
def terminal(world: World) -> Iterator[Browser]:
    b = Browser(create_app(world.kojin))
    with b.client:
        r = sign_in(b, world.clinic.clinic_id, world.clinic_key)
        assert r.status_code == 200 and "start-card" in r.text
        yield b


def card_walk(b: Browser, world: World, key: str, pin: str = PIN) -> httpx2.Response:
    start = b.get("/clinic/card/start", follow_redirects=False)
    card_id = world.people[key].card_id
    assert card_id is not None
    page = b.insert(start.headers["location"], card_id)
    signed = b.sign(page, pin)
    return b.post("/clinic/card", dict(form(signed.text, "/clinic/card").fields))


def test_sign_in_is_needed_and_checked(world: World) -> None:
    b = Browser(create_app(world.kojin))
    with b.client:
        assert "clinic_id" in b.get("/clinic/").text
        r = sign_in(b, world.other.clinic_id, world.clinic_key)
        assert r.status_code == 401 and "eligibility.clinic_unauthenticated" in r.text
        # Login CSRF: the right code and key, but without the form's token (or with another's), refused.
        bare = b.post("/clinic/login", {"clinic_id": world.clinic.clinic_id, "key": world.clinic_key})
        assert bare.status_code == 403 and "csrf.invalid" in bare.text
        forged = {"clinic_id": world.clinic.clinic_id, "key": world.clinic_key, "csrf_token": "forged"}
        assert b.post("/clinic/login", forged).status_code == 403
        assert b.get("/clinic/card/start").status_code == 401
        assert sign_in(b, world.clinic.clinic_id, world.clinic_key).status_code == 200


def test_card_consent_and_the_visit_page(terminal: Browser, world: World) -> None:
    consent_page = card_walk(terminal, world, "taro")
    assert consent_page.status_code == 200
    f = form(consent_page.text, consent_page.url.path)
    result = terminal.post(f.action, {**f.fields, "scope": "checkups", "action": "agree"})
    assert 'id="checkups"' in result.text and 'id="medications"' not in result.text
    # Another clinic's terminal cannot open this visit.
    other = Browser(create_app(world.kojin))
    with other.client:
        sign_in(other, world.other.clinic_id, world.other_key)
        denied = other.get(str(result.url.path))
        assert denied.status_code == 403 and "ehr.consent_other_clinic" in denied.text


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("lost", "eligibility.lost"),
        ("cancelled", "eligibility.not_registered"),
        ("revoked", "pki.revoked"),
    ],
)
def test_card_refusals_show_their_code(terminal: Browser, world: World, setup: str, code: str) -> None:
    from kojin.eligibility.domain import LossReason

    kojin = world.kojin
    taro = world.people["taro"]
    if setup == "lost":
        kojin.insurers.get("kyokai").lose_qualification(
            taro.local_id, lost_on=date(2026, 10, 1), reason=LossReason.RETIREMENT
        )
    elif setup == "cancelled":
        kojin.clinics.set_card_registration(taro.juminhyo_code, registered=False)
    else:
        assert taro.card_id is not None
        kojin.cards.report_lost(taro.card_id)
    page = card_walk(terminal, world, "taro")
    if setup == "lost":
        f = form(page.text, page.url.path)
        page = terminal.post(f.action, {**f.fields, "action": "none"})
    assert code in page.text


def test_certificate_refusals_show_their_code(terminal: Browser, world: World) -> None:
    page = terminal.get("/clinic/").text
    csrf = form(page, "/clinic/certificate").fields["csrf_token"]
    world.kojin.insurers.get("13105").issue_certificate(
        world.people["jiro"].local_id, reason="renewal", today=date(2020, 1, 6)
    )
    for ids, code in (
        (world.ids("jiro"), "eligibility.certificate_expired"),
        ({**world.ids("jiro"), "number": "777"}, "eligibility.certificate_unknown"),
        ({**world.ids("jiro"), "insurer_number": "12"}, "eligibility.bad_insurer_number"),
    ):
        r = terminal.post("/clinic/certificate", {**ids, "csrf_token": csrf})
        assert code in r.text, code
    r = terminal.post("/clinic/certificate", {**world.ids("jiro"), "csrf_token": "forged"})
    assert r.status_code == 403 and "csrf.invalid" in r.text
