"""ひも付けの確認: the person sees every link, disputes one, and it is suspended everywhere at once."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable

import pytest

from kojin.agency.domain import CopyEntry
from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from kojin.portal.domain import DisputeState
from kojin.staff.domain import Organisation, OrganisationKind
from tests.clinic.world import World
from tests.portal.helpers import Browser

TASK, ITEM = "児童手当の支給に関する事務", "地方税関係情報"
JLIS = Organisation(OrganisationKind.JLIS, "jlis")


def link_handles(html: str) -> dict[str, str]:
    """Each listed link's name and the handle its 「これは自分ではない」 form posts."""
    out = {}
    for chunk in html.split('class="card link-item"')[1:]:
        name = re.search(r'class="h3 link-name">([^<]+)</h3>', chunk)
        handle = re.search(r'name="link" value="([^"]+)"', chunk.split("</form>")[0])
        if name and handle:
            out[name.group(1)] = handle.group(1)
    return out


def dispute(browser: Browser, name: str, note: str = "") -> str:
    page = browser.get("/portal/links")
    assert page.status_code == 200, page.text
    handles = link_handles(page.text)
    assert name in handles, sorted(handles)
    done = browser.post("/portal/links/dispute", {"csrf_token": browser.csrf(), "link": handles[name], "note": note})
    assert done.status_code == 200, done.text
    assert 'id="link-disputed"' in done.text
    return done.text


def code_of(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(KojinError) as err:
        call(*args, **kwargs)
    return err.value.code


def leaf(world: World, index: int) -> dict[str, object]:
    return dict(json.loads(world.kojin.exchange_log.leaf_data(index)))


def test_disputed_link_blocks_eligibility_and_exchanges(world: World) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    assert taro.card_id is not None
    number = kojin.numbering.number_for(taro.juminhyo_code)
    asker, _ = kojin.agencies.obtain_code_unverified("13105", number)
    holder, _ = kojin.agencies.obtain_code_unverified("13104", number)
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    server.update_copies([CopyEntry(holder, ITEM, {"taxable_income": 3_200_000, "year": 2025})])
    client = kojin.agencies.client("13105")
    client.request("13104", TASK, ITEM, code=asker)
    kojin.clinics.check_card(world.clinic, *world.card_answer("taro"))

    browser = Browser(create_app(kojin))
    assert browser.login(taro.card_id).status_code == 200
    listed = browser.get("/portal/links").text
    names = link_handles(listed)
    kyokai = kojin.eligibility.insurer("kyokai").name
    assert kyokai in names and kojin.hub.agency("13104").name in names
    assert "保険　太郎" not in listed.split('id="links-membership"')[1].split("</section>")[0]

    # The insurance membership: the card check answers nothing, and says so in the log.
    dispute(browser, kyokai, "加入したことがありません")
    before = kojin.exchange_log.size()
    assert code_of(kojin.clinics.check_card, world.clinic, *world.card_answer("taro")) == "eligibility.link_disputed"
    assert kojin.exchange_log.size() == before + 1
    refused = leaf(world, before)
    assert refused["outcome"] == "refused" and refused["reason"] == "eligibility.link_disputed"
    assert refused["subject"] is not None

    # The provider's code: the hub refuses the exchange, after the signature, with a leaf.
    dispute(browser, kojin.hub.agency("13104").name)
    before = kojin.exchange_log.size()
    assert code_of(client.request, "13104", TASK, ITEM, code=asker) == "hub.link_disputed"
    assert kojin.exchange_log.size() == before + 1
    refused = leaf(world, before)
    assert refused["reason"] == "hub.link_disputed" and refused["subject"] is not None

    # The person's own medical pages no longer show the disputed membership's records.
    assert kojin.clinics.my_medications(taro.juminhyo_code) == []

    # Twice is refused; both disputes are shown, open.
    again = browser.get("/portal/links").text
    assert kyokai not in link_handles(again)
    assert again.count('data-state="open"') == 2


def test_supervisor_decides_confirmed_lifts_and_wrong_retires(world: World) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    assert taro.card_id is not None
    number = kojin.numbering.number_for(taro.juminhyo_code)
    asker, _ = kojin.agencies.obtain_code_unverified("13105", number)
    holder, _ = kojin.agencies.obtain_code_unverified("13104", number)
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    server.update_copies([CopyEntry(holder, ITEM, {"taxable_income": 1, "year": 2025})])
    client = kojin.agencies.client("13105")
    browser = Browser(create_app(kojin))
    browser.login(taro.card_id)
    kyokai = kojin.eligibility.insurer("kyokai").name
    dispute(browser, kyokai)
    dispute(browser, kojin.hub.agency("13104").name)
    by_label = {d.label: d for d in kojin.portal.disputes.pending()}

    done = kojin.portal.resolve_dispute(
        by_label[kyokai].dispute_id,
        DisputeState.CONFIRMED,
        staff_id="s.jlis",
        organisation=JLIS,
        note="保険者の加入記録と一致しました",
    )
    assert done.state is DisputeState.CONFIRMED and done.resolved_by == "s.jlis"
    assert (
        kojin.clinics.check_card(world.clinic, *world.card_answer("taro")).answer["result_code"] == "eligibility.valid"
    )

    kojin.portal.resolve_dispute(
        by_label[kojin.hub.agency("13104").name].dispute_id,
        DisputeState.WRONG,
        staff_id="s.jlis",
        organisation=JLIS,
        note="別の方の符号でした",
    )
    assert code_of(client.request, "13104", TASK, ITEM, code=asker) == "hub.link_disputed"
    link_id = kojin.numbering.link_id_for_code(taro.juminhyo_code)
    assert kojin.hub.find_code("13104", link_id) is None
    page = browser.get("/portal/links").text
    assert kojin.hub.agency("13104").name not in link_handles(page)
    assert 'data-state="confirmed"' in page and 'data-state="wrong"' in page
    assert "別の方の符号でした" in page and "地方公共団体情報システム機構" in page
    assert "s.jlis" not in page  # the office and role, never the staff member
    with pytest.raises(KojinError) as err:
        kojin.portal.resolve_dispute(
            by_label[kyokai].dispute_id, DisputeState.WRONG, staff_id="s.jlis", organisation=JLIS, note=""
        )
    assert err.value.code == "portal.dispute_closed"


def test_disputing_the_account_suspends_it_and_wrong_removes_it(world: World) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    assert taro.card_id is not None
    browser = Browser(create_app(kojin))
    browser.login(taro.card_id)
    form = {
        "csrf_token": browser.csrf(),
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "ordinary",
        "account_number": "1234567",
        "holder_kana": "ホケン　タロウ",
    }
    assert browser.post("/portal/account", form).status_code == 200
    dispute(browser, "公金受取口座")
    account = kojin.portal.accounts.get(taro.resident_id)
    assert account is not None and account.status.value == "disputed"
    assert "申し出により停止中" in browser.get("/portal/account").text
    (pending,) = kojin.portal.disputes.pending()
    assert kojin.portal.resolver_of(pending) == Organisation(OrganisationKind.MUNICIPALITY, "13105")
    kojin.portal.resolve_dispute(
        pending.dispute_id, DisputeState.WRONG, staff_id="s.sv", organisation=kojin.portal.resolver_of(pending), note=""
    )
    assert kojin.portal.accounts.get(taro.resident_id) is None
    # The export carries the dispute as the person sees it: no code, no staff member.
    exported = browser.post("/portal/export", {"csrf_token": browser.csrf()})
    data = json.loads(zipfile.ZipFile(io.BytesIO(exported.content)).read("kojin-export.json"))
    (kept,) = data["link_disputes"]
    assert kept["state"] == "wrong" and kept["resolver_office"] == "municipality:13105"
    assert "s.sv" not in json.dumps(data) and "code" not in kept

    # A decision applies to the account disputed, not to one the person registered meanwhile.
    assert browser.post("/portal/account", dict(form, csrf_token=browser.csrf())).status_code == 200
    dispute(browser, "公金受取口座")
    assert (
        browser.post("/portal/account", dict(form, csrf_token=browser.csrf(), account_number="7654321")).status_code
        == 200
    )
    (pending,) = kojin.portal.disputes.pending()
    kojin.portal.resolve_dispute(
        pending.dispute_id, DisputeState.WRONG, staff_id="s.sv", organisation=kojin.portal.resolver_of(pending), note=""
    )
    kept_account = kojin.portal.accounts.get(taro.resident_id)
    assert kept_account is not None and kept_account.account_number == "7654321"
    assert kept_account.status.value == "registered"


def test_a_bad_or_foreign_handle_changes_nothing(world: World) -> None:
    kojin = world.kojin
    taro, hanako = world.people["taro"], world.people["hanako"]
    assert taro.card_id is not None and hanako.card_id is not None
    theirs = Browser(create_app(kojin))
    theirs.login(hanako.card_id)
    handle = next(iter(link_handles(theirs.get("/portal/links").text).values()))
    mine = Browser(create_app(kojin))
    mine.login(taro.card_id)
    for value in (handle, "", "x" * 41):
        r = mine.post("/portal/links/dispute", {"csrf_token": mine.csrf(), "link": value})
        assert r.status_code in (404, 422), r.text
        assert 'id="link-error"' in r.text or r.headers["content-type"].startswith("application/json")
    own = next(iter(link_handles(mine.get("/portal/links").text).values()))
    too_long = mine.post("/portal/links/dispute", {"csrf_token": mine.csrf(), "link": own, "note": "あ" * 501})
    assert too_long.status_code == 422 and 'id="link-error"' in too_long.text
    no_csrf = mine.post("/portal/links/dispute", {"link": own})
    assert no_csrf.status_code == 403
    assert kojin.portal.disputes.pending() == []
