"""代理人: a parent for a child under 15, appointed proxies within scope and expiry, shown to both."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import httpx2

from kojin.app import Kojin
from tests.portal.conftest import Person, Town
from tests.portal.helpers import Browser, form

Scope = list[str]


def choices(b: Browser) -> dict[str, str]:
    """Name → opaque handle, from the home page's "whose pages" selector."""
    html = b.get("/portal/").text
    return {name: handle for handle, name in re.findall(r'<option value="([^"]+)"[^>]*>([^（<]+)（', html)}


def act_for(b: Browser, name: str) -> httpx2.Response:
    return b.post("/portal/acting", {"csrf_token": b.csrf(), "acting": choices(b)[name]})


def test_a_parent_acts_for_a_child_under_15_only(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    offered = choices(b)
    assert set(offered) == {"山田　太郎", "山田　花子"}  # not the 16-year-old, not the neighbour
    r = act_for(b, "山田　花子")
    assert 'id="acting-banner"' in r.text and "山田　花子" in r.text
    me = b.get("/portal/me").text
    assert "ヤマダ　ハナコ" in me and "2016-05-05" in me
    # Acting for the child: the child's account, in the child's name.
    r = b.post(
        "/portal/account",
        {
            "csrf_token": b.csrf(),
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": "savings",
            "account_number": "1000001",
            "holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ",
        },
    )
    assert r.status_code == 200
    assert kojin.portal.accounts.get(town.child.rid) is not None
    assert kojin.portal.accounts.get(town.parent.rid) is None
    # Both people's activity shows what the parent did for the child.
    for person in (town.parent.rid, town.child.rid):
        actions = {(e.action, e.actor_id, e.subject_id) for e in kojin.portal.activity.for_person(person)}
        assert ("account_registered", town.parent.rid, town.child.rid) in actions
        assert ("view", town.parent.rid, town.child.rid) in actions
    # Back to the parent's own pages.
    b.post("/portal/acting", {"csrf_token": b.csrf(), "acting": choices(b)["山田　太郎"]})
    assert "ヤマダ　タロウ" in b.get("/portal/me").text


def test_handles_are_opaque_and_per_session(town: Town, browser: Callable[..., Browser]) -> None:
    a, b = browser(), browser()
    a.login(town.parent.card.card_id)
    b.login(town.parent.card.card_id)
    handle_a = choices(a)["山田　花子"]
    assert handle_a != choices(b)["山田　花子"]
    assert not handle_a.isdigit() and len(handle_a) >= 16
    # Another session's handle, or a resident id, does not switch anything.
    for forged in (choices(b)["山田　花子"], str(town.child.rid), str(town.neighbour.rid), "x" * 64):
        r = a.post("/portal/acting", {"csrf_token": a.csrf(), "acting": forged})
        assert r.status_code == 404 and "portal.no_such_person" in r.text
    assert "ヤマダ　タロウ" in a.get("/portal/me").text


def invite(b: Browser, scope: Scope, days: int, kojin: Kojin) -> str:
    expires = (kojin.portal.today() + timedelta(days=days)).isoformat()
    r = b.post("/portal/proxies/invite", {"csrf_token": b.csrf(), "scope": scope, "expires_on": expires})
    assert r.status_code == 200, r.text
    found = re.search(r'id="invitation-code"><strong>([A-Z0-9-]+)<', r.text)
    assert found, r.text
    return found.group(1)


def accept(b: Browser, code: str) -> httpx2.Response:
    return b.post("/portal/proxies/accept", {"csrf_token": b.csrf(), "code": code})


def test_an_appointed_proxy_sees_only_the_scope(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    principal, proxy = browser(), browser()
    principal.login(town.parent.card.card_id)
    code = invite(principal, ["me", "notices"], 30, kojin)
    proxy.login(town.neighbour.card.card_id)
    r = accept(proxy, code)
    assert 'id="proxy-accepted"' in r.text
    assert accept(browser_login(browser, town.teen), code).status_code == 422
    act_for(proxy, "山田　太郎")
    assert "ヤマダ　タロウ" in proxy.get("/portal/me").text
    nav = proxy.get("/portal/").text
    assert "/portal/notices" in nav and "/portal/account" not in nav and "/portal/history" not in nav
    for url in (
        "/portal/account",
        "/portal/history",
        "/portal/card",
        "/portal/export",
        "/portal/proxies",
        "/portal/activity",
    ):
        r = proxy.get(url)
        assert r.status_code == 403 and "portal.out_of_scope" in r.text, url
    r = proxy.post(
        "/portal/account",
        {
            "csrf_token": proxy.csrf(),
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": "ordinary",
            "account_number": "3000003",
            "holder_kana": "ヤマダ　タロウ",
        },
    )
    assert r.status_code == 403 and kojin.portal.accounts.get(town.parent.rid) is None
    # The principal sees what the proxy did, and so does the proxy.
    for person in (town.parent.rid, town.neighbour.rid):
        entries = kojin.portal.activity.for_person(person)
        assert any(
            e.action == "view" and e.actor_id == town.neighbour.rid and e.subject_id == town.parent.rid for e in entries
        )
    assert "佐藤　京子" in principal.get("/portal/activity").text
    # The principal revokes: on the proxy's next click they are back on their own pages.
    proxies_page = principal.get("/portal/proxies").text
    principal.post("/portal/proxies/revoke", form(proxies_page, "/portal/proxies/revoke").fields)
    assert "サトウ　キョウコ" in proxy.get("/portal/me").text
    assert choices(proxy) == {}  # nobody else to act for: no selector at all


def browser_login(browser: Callable[..., Browser], person: Person) -> Browser:
    b = browser()
    b.login(person.card.card_id)
    return b


def test_invitations_are_single_use_and_proxies_expire(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    principal, proxy = browser(), browser()
    principal.login(town.parent.card.card_id)
    proxy.login(town.neighbour.card.card_id)
    assert "proxy.bad_invitation" not in accept(proxy, invite(principal, ["me"], 1, kojin)).text
    r = accept(proxy, "AAAA-BBBB-CCCC")
    assert r.status_code == 422 and "招待コード" in r.text
    # Oneself as proxy: refused.
    r = accept(principal, invite(principal, ["me"], 5, kojin))
    assert r.status_code == 409
    # Bad scope and expiry are refused with the field.
    r = principal.post(
        "/portal/proxies/invite", {"csrf_token": principal.csrf(), "scope": ["card"], "expires_on": "2027-01-01"}
    )
    assert r.status_code == 422 and "proxy.bad_scope" not in r.text and "任せられない" in r.text
    r = principal.post(
        "/portal/proxies/invite", {"csrf_token": principal.csrf(), "scope": ["me"], "expires_on": "2099-01-01"}
    )
    assert r.status_code == 422 and "期限" in r.text
    # When the day passes the relation ends by itself.
    act_for(proxy, "山田　太郎")
    assert "ヤマダ　タロウ" in proxy.get("/portal/me").text
    later = kojin.portal.today() + timedelta(days=2)
    # The portal's clock moved on: this Kojin only, for this test.
    kojin.portal.today = lambda: later  # type: ignore[method-assign]
    assert "サトウ　キョウコ" in proxy.get("/portal/me").text


def test_a_proxy_cannot_appoint_proxies_for_the_principal(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    parent = browser()
    parent.login(town.parent.card.card_id)
    act_for(parent, "山田　花子")
    r = parent.get("/portal/proxies")
    assert r.status_code == 403
    expires = (kojin.portal.today() + timedelta(days=3)).isoformat()
    r = parent.post("/portal/proxies/invite", {"csrf_token": parent.csrf(), "scope": ["me"], "expires_on": expires})
    assert r.status_code == 403
