"""やりとり履歴: every exchange about me, filters, proofs that verify (in the page, as JSON, by the CLI)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from kojin.agency.domain import CopyEntry
from kojin.app import Kojin
from kojin.audit.store import leaf_tags
from kojin.audit.verify import verify_bundle
from kojin.core.errors import KojinError
from kojin.demo.agencies import DEMO_AGENCIES
from kojin.entrypoints.cli.audit import audit_app
from kojin.hub.domain import subject_tag
from tests.portal.conftest import Town
from tests.portal.helpers import Browser

TAX = "地方税関係情報"
PENSION = "年金給付関係情報"


def exchange_about(kojin: Kojin, town: Town) -> dict[str, int]:
    """Four exchanges: three about the parent (answered, withheld, refused), one about the neighbour."""
    # Three of the demo agencies are enough (each one migrates a store of its own).
    for agency_id, name, kind in DEMO_AGENCIES:
        if agency_id in ("13105", "13104", "jps") and kojin.hub.find_agency(agency_id) is None:
            kojin.agencies.create(agency_id, name=name, kind=kind)
    codes = {}
    for person in (town.parent, town.neighbour):
        number = kojin.numbering.number_for(person.resident.juminhyo_code)
        codes[person.rid] = {a: kojin.agencies.obtain_code_unverified(a, number)[0] for a in ("13105", "13104", "jps")}
    p, n = codes[town.parent.rid], codes[town.neighbour.rid]
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    server.update_copies([CopyEntry(p["13104"], TAX, {"taxable_income": 3_200_000, "year": 2025})])
    server = kojin.agencies.intermediate("jps")
    assert server is not None
    server.update_copies([CopyEntry(p["jps"], PENSION, {"pension": 1}, withheld=True)])
    client = kojin.agencies.client("13105")
    leaves = {
        "answered": client.request("13104", "児童手当の支給に関する事務", TAX, code=p["13105"]).leaf_index,
        "withheld": client.request("jps", "生活保護の決定及び実施に関する事務", PENSION, code=p["13105"]).leaf_index,
        "neighbour": client.request("13104", "児童手当の支給に関する事務", TAX, code=n["13105"]).leaf_index,
    }
    with pytest.raises(KojinError):
        client.request("jps", "児童手当の支給に関する事務", PENSION, code=p["13105"])  # not in the table
    leaves["refused"] = kojin.exchange_log.size() - 1
    return leaves


@pytest.fixture
def leaves(kojin: Kojin, town: Town) -> dict[str, int]:
    return exchange_about(kojin, town)


def entry_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="entry-(\d+)"', html)]


def test_history_shows_every_exchange_about_me_and_nothing_else(
    town: Town, leaves: dict[str, int], browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    html = b.get("/portal/history").text
    assert sorted(entry_ids(html)) == sorted([leaves["answered"], leaves["withheld"], leaves["refused"]])
    assert "文京区長" in html and "新宿区長" in html and "日本年金機構" in html
    assert "提供" in html and "不開示" in html and "拒否" in html and "hub.not_permitted" in html
    # Each entry carries the server's verification as a badge.
    assert len(re.findall(r'class="badge ok list-badge">検証済み<', html)) == 3
    n = browser()
    n.login(town.neighbour.card.card_id)
    assert entry_ids(n.get("/portal/history").text) == [leaves["neighbour"]]


def test_history_filters_by_item_agency_and_date(
    town: Town, leaves: dict[str, int], browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    assert entry_ids(b.get("/portal/history", params={"item": TAX}).text) == [leaves["answered"]]
    by_jps = entry_ids(b.get("/portal/history", params={"agency": "jps"}).text)
    assert sorted(by_jps) == sorted([leaves["withheld"], leaves["refused"]])
    today = datetime.now(UTC).astimezone(timezone(timedelta(hours=9))).date()
    assert len(entry_ids(b.get("/portal/history", params={"from": today.isoformat()}).text)) == 3
    assert entry_ids(b.get("/portal/history", params={"to": (today - timedelta(days=1)).isoformat()}).text) == []
    r = b.get("/portal/history", params={"from": "2026-02-30"})
    assert r.status_code == 422 and "Traceback" not in r.text


def test_each_entry_has_a_proof_that_verifies_in_the_page_and_offline(
    kojin: Kojin, town: Town, leaves: dict[str, int], browser: Callable[..., Browser], tmp_path: Path
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    index = leaves["answered"]
    badge = b.post(f"/portal/history/{index}/verify", {"csrf_token": b.csrf()}, headers={"HX-Request": "true"})
    assert badge.status_code == 200 and "検証済み" in badge.text and "<html" not in badge.text
    assert "あなたの鍵から計算した値と一致します" in badge.text
    page = b.post(f"/portal/history/{index}/verify", {"csrf_token": b.csrf()})
    assert "<html" in page.text and "検証済み" in page.text
    download = b.get(f"/portal/history/{index}/proof.json")
    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    bundle = download.json()
    assert verify_bundle(bundle, trusted_public_key=kojin.exchange_log.public_key).ok
    leaf = json.loads(__import__("base64").b64decode(bundle["leaf_data"]))
    assert leaf["requester"] == "13105" and leaf["item"] == TAX and "山田" not in json.dumps(leaf)
    proof = tmp_path / "proof.json"
    proof.write_text(download.text, encoding="utf-8")
    result = CliRunner().invoke(audit_app, ["verify", str(proof)])
    assert result.exit_code == 0, result.output


def test_another_persons_entries_are_not_found(
    town: Town, leaves: dict[str, int], browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    theirs = leaves["neighbour"]
    for r in (
        b.get(f"/portal/history/{theirs}"),
        b.get(f"/portal/history/{theirs}/proof.json"),
        b.post(f"/portal/history/{theirs}/verify", {"csrf_token": b.csrf()}),
        b.get("/portal/history/999999"),
        b.get("/portal/history/-1"),
        b.get("/portal/history/abc/proof.json"),
    ):
        assert r.status_code == 404 and "history.not_found" in r.text and "Traceback" not in r.text


def test_history_reads_the_index_and_reindexing_rebuilds_it(
    kojin: Kojin, town: Town, leaves: dict[str, int], browser: Callable[..., Browser]
) -> None:
    mine = sorted([leaves["answered"], leaves["withheld"], leaves["refused"]])
    with kojin.db.engine("audit").begin() as conn:  # a log from before the index
        conn.execute(delete(leaf_tags))
    b = browser()
    b.login(town.parent.card.card_id)
    assert entry_ids(b.get("/portal/history").text) == []  # no scan behind the index's back
    assert b.get(f"/portal/history/{leaves['answered']}").status_code == 404
    done = kojin.hub.reindex(kojin.exchange_log)
    assert (done.scanned, done.about_someone, done.added) == (kojin.exchange_log.size(), 4, 4)
    assert sorted(entry_ids(b.get("/portal/history").text)) == mine
    assert kojin.hub.reindex(kojin.exchange_log).added == 0  # idempotent
    n = browser()
    n.login(town.neighbour.card.card_id)
    assert entry_ids(n.get("/portal/history").text) == [leaves["neighbour"]]


def test_an_index_row_never_shows_someone_elses_leaf(
    kojin: Kojin, town: Town, leaves: dict[str, int], browser: Callable[..., Browser]
) -> None:
    history = kojin.portal.history
    assert history is not None
    parent = history.subject_key(town.parent.resident)
    assert parent is not None
    theirs = leaves["neighbour"]
    kojin.exchange_log.add_tags([(subject_tag(parent), theirs, "13105", "13104")])
    b = browser()
    b.login(town.parent.card.card_id)
    # The index says "theirs is mine"; the leaf's commitment says otherwise, and wins.
    assert theirs not in entry_ids(b.get("/portal/history").text)
    assert b.get(f"/portal/history/{theirs}").status_code == 404
    assert b.get(f"/portal/history/{theirs}/proof.json").status_code == 404


def test_self_information_is_an_exchange_in_my_history(
    kojin: Kojin, town: Town, leaves: dict[str, int], browser: Callable[..., Browser]
) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    me = b.get("/portal/me").text
    assert "新宿区長 — 地方税関係情報" in me
    r = b.post("/portal/me/fetch", {"csrf_token": b.csrf(), "option": f"13104|{TAX}"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "taxable_income" in r.text and "3200000" in r.text
    latest = kojin.exchange_log.size() - 1
    assert latest in entry_ids(b.get("/portal/history").text)
    entry = b.get(f"/portal/history/{latest}").text
    assert "デジタル庁（マイナポータル）" in entry and "本人への自己情報の表示に関する事務" in entry
    # Only options the permitted table gives the portal: anything else is refused before the hub.
    for bad in ("13104|生活保護関係情報", "nta|地方税関係情報", "x" * 150):
        r = b.post("/portal/me/fetch", {"csrf_token": b.csrf(), "option": bad})
        assert r.status_code == 404 and "selfinfo.no_such_option" in r.text
    # The neighbour's history does not gain the parent's fetch.
    n = browser()
    n.login(town.neighbour.card.card_id)
    assert latest not in entry_ids(n.get("/portal/history").text)
    assert any(e.action == "self_info" for e in kojin.portal.activity.for_person(town.parent.rid))
