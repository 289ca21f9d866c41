"""お知らせ (service, CLI, read state), the card page (PIN state, loss report), and the data export."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kojin.app import Kojin
from kojin.core.config import Settings
from kojin.core.errors import KojinError
from kojin.demo.agencies import DEMO_AGENCIES
from kojin.entrypoints.cli import app as cli
from kojin.registry.domain import Address
from tests.conftest import point_cli_at
from tests.portal.conftest import Town
from tests.portal.helpers import Browser, forms


def bunkyo(kojin: Kojin) -> None:
    agency_id, name, kind = DEMO_AGENCIES[0]
    if kojin.hub.find_agency(agency_id) is None:
        kojin.agencies.create(agency_id, name=name, kind=kind)


def test_agencies_post_notices_and_the_person_reads_them(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    bunkyo(kojin)
    kojin.portal.send_notice(town.parent.rid, sender_id="13105", title="児童手当の現況届", body="提出は不要です。")
    with pytest.raises(KojinError) as err:
        kojin.portal.send_notice(town.parent.rid, sender_id="nobody", title="x", body="y")
    assert err.value.code == "notice.unknown_sender"
    with pytest.raises(KojinError) as err:
        kojin.portal.send_notice(town.parent.rid, sender_id="13105", title="x" * 101, body="y")
    assert err.value.field == "title"
    b = browser()
    b.login(town.parent.card.card_id)
    assert "お知らせ (1)" in b.get("/portal/").text
    page = b.get("/portal/notices").text
    assert "児童手当の現況届" in page and "文京区長" in page and "未読" in page
    read = next(f for f in forms(page) if f.action.endswith("/read"))
    r = b.post(read.action, read.fields, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "既読" in r.text
    assert kojin.portal.notices.unread_count(town.parent.rid) == 0
    assert "お知らせ (1)" not in b.get("/portal/").text


def test_notice_cli(kojin: Kojin, town: Town, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    bunkyo(kojin)
    # The CLI builds kojin from the environment: point it at this test's stores.
    point_cli_at(kojin, monkeypatch)
    runner = CliRunner()
    ok = runner.invoke(
        cli,
        [
            "notice",
            "send",
            "--resident",
            str(town.parent.rid),
            "--from",
            "13105",
            "--title",
            "保険料のお知らせ",
            "--body",
            "今年度の保険料が決まりました。",
        ],
    )
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(
        cli, ["notice", "list", "--resident", str(town.parent.rid), "--purpose", "本人への自己情報の表示に関する事務"]
    )
    assert json.loads(listed.output.splitlines()[0])["title"] == "保険料のお知らせ"
    bad = runner.invoke(
        cli, ["notice", "send", "--resident", "999999", "--from", "13105", "--title", "t", "--body", "b"]
    )
    assert bad.exit_code == 2 and "resident.not_found" in bad.output
    assert [n.title for n in kojin.portal.notices.of(town.parent.rid)] == ["保険料のお知らせ"]


def test_the_card_page_shows_pin_state_and_a_loss_report_ends_the_session(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    b = browser()
    page = b.insert(b.start_login(), town.parent.card.card_id)
    b.sign(page, "0000")  # one wrong PIN before the right one: the counter is back to 3 after
    b.login(town.parent.card.card_id)
    other = browser()
    other.login(town.parent.card.card_id)  # the same card in a second browser
    card = b.get("/portal/card").text
    assert "あと 3 回" in card and town.parent.card.card_id in card
    r = b.post("/portal/card/lost", {"csrf_token": b.csrf(), "card": "0"})  # not confirmed
    assert r.status_code == 422 and kojin.cards.status(town.parent.card.card_id).status == "active"
    r = b.post("/portal/card/lost", {"csrf_token": b.csrf(), "card": "0", "confirm": "yes"})
    assert r.status_code == 200 and 'id="lost-done"' in r.text and "/portal/logout" not in r.text
    state = kojin.cards.status(town.parent.card.card_id)
    assert state.status == "lost" and state.auth_status == "revoked"
    for browser_ in (b, other):
        assert "山田" not in browser_.get("/portal/me").text
    assert any(e.action == "card_lost" for e in kojin.portal.activity.for_person(town.parent.rid))


def test_a_lock_shows_on_the_card_page(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()  # someone tries PINs on the child's card until it locks
    for _ in range(3):
        page = b.insert(b.start_login(), town.child.card.card_id)
        b.sign(page, "0000")
    b.login(town.parent.card.card_id)
    handle = re.search(r'<option value="([^"]+)"[^>]*>山田　花子', b.get("/portal/").text)
    assert handle is not None
    b.post("/portal/acting", {"csrf_token": b.csrf(), "acting": handle.group(1)})
    card = b.get("/portal/card").text
    assert "ロック中" in card and "市区町村の窓口" in card


def test_the_card_page_says_when_the_card_lags_behind_the_register(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    assert "最新" in b.get("/portal/card").text
    kojin.register.move_within(town.parent.rid, Address("1120012", "", "", "", "1-2-3"))
    card = b.get("/portal/card").text
    assert "住所・氏名の変更が未反映" in card and "返納が必要" not in card
    kojin.register.change_number(town.parent.rid, reason="漏えい")
    # Still able to log in with the recalled card, and told why it must go back.
    b = browser()
    b.login(town.parent.card.card_id)
    card = b.get("/portal/card").text
    assert "返納が必要" in card and "個人番号は読み取れません" in card
    english = b.get("/portal/card", params={"lang": "en"}).text
    assert "must be returned" in english and "no longer gives it out" in english
    # Its certificates are still good, so it can still be reported lost.
    r = b.post("/portal/card/lost", {"csrf_token": b.csrf(), "card": "0", "confirm": "yes"})
    assert r.status_code == 200 and kojin.cards.status(town.parent.card.card_id).status == "lost"


def test_export_has_everything_and_no_secrets(
    kojin: Kojin, town: Town, browser: Callable[..., Browser], tmp_path: Path
) -> None:
    bunkyo(kojin)
    kojin.portal.send_notice(town.parent.rid, sender_id="13105", title="件名", body="本文")
    b = browser()
    b.login(town.parent.card.card_id)
    b.post(
        "/portal/account",
        {
            "csrf_token": b.csrf(),
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": "ordinary",
            "account_number": "7654321",
            "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
        },
    )
    r = b.post("/portal/export", {"csrf_token": b.csrf()})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(zf.namelist())
    assert {
        "kojin-export.json",
        "register.csv",
        "household.csv",
        "register_history.csv",
        "cards.csv",
        "public_funds_account.csv",
        "proxies.csv",
        "notices.csv",
        "portal_activity.csv",
        "exchange_history.csv",
    } <= names
    data = json.loads(zf.read("kojin-export.json"))
    assert data["register"]["name"] == "山田　太郎" and "resident_id" not in data["register"]
    assert {m["name"] for m in data["household"]} == {"山田　太郎", "山田　花子", "山田　一郎"}
    assert data["public_funds_account"]["account_number"] == "7654321"
    assert data["notices"][0]["title"] == "件名"
    assert data["cards"][0]["card_id"] == town.parent.card.card_id
    rows = list(csv.DictReader(io.StringIO(zf.read("register.csv").decode("utf-8-sig"))))
    assert rows[0]["kana"] == "ヤマダ　タロウ"
    everything = b"".join(zf.read(n) for n in names).decode("utf-8", "replace")
    number = kojin.numbering.number_for(town.parent.resident.juminhyo_code)
    assert number not in everything and town.parent.resident.juminhyo_code not in everything
    for secret in ("PRIVATE KEY", '"pin":', "ABC123", "佐藤"):
        assert secret not in everything, secret
    assert any(e.action == "export" for e in kojin.portal.activity.for_person(town.parent.rid))
