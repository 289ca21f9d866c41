"""``kojin link``: the CSV round trip, every kind of bad input (no output at all), review and audit commands."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from kojin.app import Kojin
from kojin.core.config import Settings
from kojin.eligibility.domain import DEMO_INSURERS
from kojin.eligibility.insurer.service import MemberDraft
from kojin.entrypoints.cli import app
from kojin.linkage.matcher import LINK_AT, MemberRecord
from kojin.portal.domain import validate_account
from kojin.registry.domain import Sex
from tests.conftest import point_cli_at
from tests.linkage.conftest import Town

HEADER = "member_id,name,kana,sex,birth_date,postal_code,address\n"
GOOD = (
    HEADER
    + "A1,山田　太郎,ヤマダ　タロウ,1,1980-04-01,113-0033,東京都文京区本郷4丁目15番14号 メゾン本郷 302号室\n"
    + "A2,山田太郎,ﾔﾏﾀﾞ ﾀﾛｳ,1,1980-04-01,1000001,東京都千代田区千代田1-1\n"
    + "A3,勅使河原　蓮,テシガワラ　レン,1,2001-01-01,1130033,東京都文京区本郷1-1-1\n"
    + 'A4,"鈴木　大和",すずき　やまと,1,2015-06-02,1130022,"東京都文京区千駄木三丁目一番二号"\n'
)

Invoke = Callable[..., Result]


@pytest.fixture
def run(kojin: Kojin, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """The CLI on the same stores as the ``kojin`` fixture (SQLite or PostgreSQL)."""
    point_cli_at(kojin, monkeypatch)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _operator(run: Invoke, tmp_path: Path, staff_id: str, name: str = "照合 次郎") -> tuple[str, str]:
    """A linkage clerk with an operator key file: the ``--operator`` option that proves them."""
    added = run("staff", "add", staff_id, "--name", name, "--org", "linkage", "--role", "linkage_clerk")
    assert added.exit_code == 0, added.output
    key = tmp_path / f"{staff_id}.key"
    assert run("staff", "operator-key", staff_id, "--out", str(key)).exit_code == 0
    return "--operator", str(key)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_link_csv_round_trip(run: Invoke, town: Town, agency: str, tmp_path: Path) -> None:
    members, out = tmp_path / "in.csv", tmp_path / "out" / "result.csv"
    members.write_text(GOOD, encoding="utf-8")
    result = run("link", "--agency", agency, "--members", str(members), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert list(rows[0]) == ["member_id", "decision", "resident_id", "agency_code", "score", "reasons"]
    by_id = {r["member_id"]: r for r in rows}
    assert by_id["A1"]["decision"] == "linked" and by_id["A1"]["resident_id"] == str(town.yamada.resident_id)
    assert len(by_id["A1"]["agency_code"]) >= 16 and float(by_id["A1"]["score"]) > 12
    assert by_id["A2"]["decision"] == "review" and by_id["A2"]["resident_id"] == by_id["A2"]["agency_code"] == ""
    assert "ambiguous" in by_id["A2"]["reasons"]
    assert by_id["A3"]["decision"] == "no_match" and by_id["A3"]["reasons"] == "no_match"
    assert by_id["A4"]["decision"] == "linked" and by_id["A4"]["resident_id"] == str(town.twin_2.resident_id)
    assert [p.name for p in out.parent.iterdir()] == ["result.csv"]

    listed = run("link", "review", "list", "--json")
    assert listed.exit_code == 0, listed.output
    cases = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {c["member_id"] for c in cases} == {"A2", "A3"}
    case_id = next(c["case_id"] for c in cases if c["member_id"] == "A2")
    shown = run("link", "review", "show", str(case_id), "--json")
    detail = json.loads(shown.stdout)
    assert {c["resident_id"] for c in detail["candidates"]} == {town.yamada.resident_id, town.double.resident_id}
    assert run("link", "review", "show", str(case_id)).exit_code == 0
    decided = run("link", "review", "decide", str(case_id), "--resident", str(town.double.resident_id))
    assert decided.exit_code == 0 and "pending_second" in decided.stdout, decided.output
    detail = json.loads(run("link", "review", "show", str(case_id), "--json").stdout)
    assert detail["decisions"][0]["clerk"] == "この端末の管理者（admin）"  # the operator, not a typed name
    assert (detail["status"], detail["proposed_by"]) == ("pending_second", "admin")
    # The second clerk is another operator, proved by their own key file.
    second = _operator(run, tmp_path, "l.jiro")
    confirmed = run(*second, "link", "review", "decide", str(case_id), "--resident", str(town.double.resident_id))
    assert confirmed.exit_code == 0 and "紐付けました" in confirmed.stdout, confirmed.output
    again = run("link", "review", "decide", str(case_id), "--no-match")
    assert again.exit_code == 2 and again.stderr.startswith("error linkage.case_closed")

    audited = run("audit", "links", "--out", str(tmp_path / "audit"), "--json")
    assert audited.exit_code == 0, audited.output
    summary = json.loads(audited.stdout)
    assert summary["links_checked"] == 3
    assert {p: c["checked"] for p, c in summary["by_path"].items() if c["checked"]} == {"matcher": 2, "clerk_second": 1}
    assert (tmp_path / "audit" / "link-audit.html").read_text(encoding="utf-8").startswith("<!doctype html>")


BAD = [
    pytest.param(
        HEADER.replace(",kana", "") + "B1,山田　太郎,1,1980-04-01,1130033,東京都文京区本郷1-1-1\n",
        "1行目 [header]",
        id="missing-column",
    ),
    pytest.param(
        GOOD.replace("1980-04-01,113-0033", "1980-02-30,113-0033"), "2行目 [birth_date]", id="impossible-date"
    ),
    pytest.param(GOOD.replace("A3,勅使河原　蓮", "A3,"), "4行目 [name]", id="empty-name"),
    pytest.param(
        GOOD.replace("2015-06-02,1130022", "2015-06-02,0000000"), "5行目 [postal_code]", id="unknown-postal-code"
    ),
    pytest.param(GOOD.replace("テシガワラ　レン,1,", "テシガワラ　レン,3,"), "4行目 [sex]", id="bad-sex"),
    pytest.param(GOOD.replace("A2,", "A1,"), "3行目 [member_id]", id="duplicate-id"),
    pytest.param(GOOD.replace("ヤマダ　タロウ", "Yamada Taro"), "2行目 [kana]", id="kana-not-kana"),
    pytest.param(
        GOOD + "A9,田中　一郎,タナカ　イチロウ,1,2099-01-01,1130033,東京都文京区本郷1-1-1\n",
        "6行目 [birth_date]",
        id="future-birth",
    ),
    pytest.param(
        GOOD + "A9,田中　一郎,タナカ　イチロウ,1,1990-01-01,1130033,\n", "6行目 [address]", id="empty-address"
    ),
]


@pytest.mark.parametrize(("text", "where"), BAD)
def test_bad_input_is_refused_whole(run: Invoke, agency: str, tmp_path: Path, text: str, where: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    members, out = work / "in.csv", work / "out.csv"
    members.write_text(text, encoding="utf-8")
    result = run("link", "--agency", agency, "--members", str(members), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error linkage.members_invalid"), result.stderr
    assert where in result.stderr
    assert not out.exists()
    assert [p.name for p in work.iterdir()] == ["in.csv"]  # no output, no temporary file


def test_shift_jis_is_refused_with_its_line(run: Invoke, agency: str, tmp_path: Path) -> None:
    members, out = tmp_path / "in.csv", tmp_path / "out.csv"
    members.write_bytes(
        GOOD.encode("utf-8").split(b"\n", 2)[0]
        + b"\n"
        + GOOD.splitlines()[1].encode("utf-8")
        + b"\n"
        + GOOD.splitlines()[2].encode("shift_jis")
        + b"\n"
    )
    result = run("link", "--agency", agency, "--members", str(members), "--out", str(out))
    assert result.exit_code == 2
    assert "3行目 [encoding]" in result.stderr and "UTF-8" in result.stderr
    assert not out.exists()


def test_every_problem_is_listed(run: Invoke, agency: str, tmp_path: Path) -> None:
    members, out = tmp_path / "in.csv", tmp_path / "out.csv"
    members.write_text(GOOD.replace(",1,1980-04-01", ",9,1980-13-01"), encoding="utf-8")
    result = run("link", "--agency", agency, "--members", str(members), "--out", str(out))
    assert result.exit_code == 2
    for line in ("2行目 [sex]", "2行目 [birth_date]", "3行目 [sex]", "3行目 [birth_date]"):
        assert line in result.stderr
    assert not out.exists()


def test_unknown_agency_and_missing_options(run: Invoke, town: Town, tmp_path: Path) -> None:
    members, out = tmp_path / "in.csv", tmp_path / "out.csv"
    members.write_text(GOOD, encoding="utf-8")
    result = run("link", "--agency", "nobody", "--members", str(members), "--out", str(out))
    assert result.exit_code == 2 and result.stderr.startswith("error hub.unknown_agency [agency]")
    assert not out.exists()
    partial = run("link", "--agency", "nobody")
    assert partial.exit_code == 2 and "linkage.options" in partial.stderr
    assert "--members" in run("link").output
    missing = run("link", "--agency", "x", "--members", str(tmp_path / "none.csv"), "--out", str(out))
    assert missing.exit_code == 2 and "linkage.members_unreadable" in missing.stderr


def test_control_characters_in_a_member_reach_the_terminal_escaped(run: Invoke, agency: str, tmp_path: Path) -> None:
    # An agency's file is not to be trusted with the clerk's terminal: ESC, C1 CSI, bidi override, markup.
    hostile = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e[bold]x[/bold]"
    members = tmp_path / "in.csv"
    members.write_text(GOOD.replace("A3,", "A3" + hostile + ",", 1), encoding="utf-8")
    linked = run("link", "--agency", agency, "--members", str(members), "--out", str(tmp_path / "out.csv"))
    assert linked.exit_code == 0, linked.output
    listed = run("link", "review", "list")
    case_line = run("link", "review", "list", "--json")
    for output in (listed.stdout, case_line.stdout):
        assert not any(ch in output for ch in "\x1b\x07\x9b\u202e"), output
    assert "\\x1b" in listed.stdout.replace("\n", "")  # written out (the table may wrap it elsewhere)
    cases = [json.loads(line) for line in case_line.stdout.splitlines()]
    case = next(c for c in cases if c["member_id"].startswith("A3"))
    assert case["member_id"] == "A3" + hostile  # the JSON still carries the data as sent
    shown = run("link", "review", "show", str(case["case_id"]))
    assert shown.exit_code == 0, shown.output
    assert not any(ch in shown.stdout for ch in "\x1b\x07\x9b\u202e")


def _case(run: Invoke, kojin: Kojin, agency: str, member: MemberRecord) -> int:
    [outcome] = kojin.matching.link_members(agency, [member])
    assert outcome.case_id is not None
    return outcome.case_id


def _shown(run: Invoke, case_id: int) -> dict[str, Any]:
    shown = run("link", "review", "show", str(case_id), "--json")
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.stdout))


def test_clerk_cannot_link_a_non_candidate(run: Invoke, kojin: Kojin, town: Town, agency: str, tmp_path: Path) -> None:
    member = _member("R-1", "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1")
    case_id = _case(run, kojin, agency, member)
    candidates = {c["resident_id"] for c in _shown(run, case_id)["candidates"]}
    assert town.mother.resident_id not in candidates
    taro, jiro = _operator(run, tmp_path, "l.taro", "照合 太郎"), _operator(run, tmp_path, "l.jiro")
    for clerk in (taro, jiro):  # two clerks agreeing on her fare no better than one
        for outsider in (town.mother.resident_id, 999):
            refused = run(*clerk, "link", "review", "decide", str(case_id), "--resident", str(outsider))
            assert refused.exit_code == 2 and refused.stderr.startswith("error linkage.not_a_candidate"), outsider
    detail = _shown(run, case_id)
    assert (detail["status"], detail["decisions"], detail["proposed_resident"]) == ("open", [], None)
    assert [r for r in kojin.matching.iter_links() if r.member_id == "R-1"] == []


def test_low_score_link_needs_a_second_clerk(
    run: Invoke, kojin: Kojin, town: Town, agency: str, tmp_path: Path
) -> None:
    member = _member("R-1", "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1")
    case_id = _case(run, kojin, agency, member)
    assert all(c["score"] < LINK_AT for c in _shown(run, case_id)["candidates"])
    taro, jiro = _operator(run, tmp_path, "l.taro", "照合 太郎"), _operator(run, tmp_path, "l.jiro")
    choice = ("link", "review", "decide", str(case_id), "--resident", str(town.yamada.resident_id))

    first = run(*taro, *choice)
    assert first.exit_code == 0 and "pending_second" in first.stdout, first.output
    detail = _shown(run, case_id)
    assert (detail["status"], detail["proposed_by"], detail["proposed_resident"]) == (
        "pending_second",
        "l.taro",
        town.yamada.resident_id,
    )
    assert [r for r in kojin.matching.iter_links() if r.member_id == "R-1"] == []
    listed = [json.loads(line) for line in run("link", "review", "list", "--json").stdout.splitlines()]
    assert [(c["case_id"], c["status"]) for c in listed] == [(case_id, "pending_second")]

    same = run(*taro, *choice)
    assert same.exit_code == 2 and same.stderr.startswith("error linkage.same_clerk"), same.output
    assert _shown(run, case_id)["status"] == "pending_second"
    assert [r for r in kojin.matching.iter_links() if r.member_id == "R-1"] == []

    second = run(*jiro, *choice)
    assert second.exit_code == 0, second.output
    detail = _shown(run, case_id)
    assert detail["status"] == "linked"
    assert [(d["outcome"], d["clerk_id"]) for d in detail["decisions"]] == [("proposed", "l.taro"), ("link", "l.jiro")]
    [link] = [r for r in kojin.matching.iter_links() if r.member_id == "R-1"]
    assert link.resident_id == town.yamada.resident_id


def _member(member_id: str, name: str, kana: str, born: date, postal: str, address: str) -> MemberRecord:
    sex = Sex.FEMALE if name.endswith("子") else Sex.MALE
    return MemberRecord(member_id, name, kana, sex, born, postal, address)


def test_audit_links_counts_every_path(run: Invoke, kojin: Kojin, town: Town, agency: str, tmp_path: Path) -> None:
    """One audit over the matcher's, the clerks', the number path's and the insurer's links and the accounts."""
    mother = _member("M-1", "髙橋　和子", "タカハシ　カズコ", date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3")
    yamada = _member("R-2", "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1), "1130033", "東京都文京区本郷4-15-14")
    ambiguous = _member("R-1", "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1")
    _m, _y, low = kojin.matching.link_members(agency, [mother, yamada, ambiguous])
    # One clerk: the member linked already, sent again from another person's address (a high score).
    moved = _member("R-2", "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1), "1120001", "東京都文京区白山2-3-4")
    [high] = kojin.matching.link_members(agency, [moved])
    assert high.case_id is not None and low.case_id is not None
    taro, jiro = _operator(run, tmp_path, "l.taro", "照合 太郎"), _operator(run, tmp_path, "l.jiro")
    one = run(*taro, "link", "review", "decide", str(high.case_id), "--resident", str(town.double.resident_id))
    assert one.exit_code == 0 and "pending_second" not in one.stdout, one.output
    # Two clerks: a low-score candidate.
    for clerk in (taro, jiro):
        decided = run(*clerk, "link", "review", "decide", str(low.case_id), "--resident", str(town.yamada.resident_id))
        assert decided.exit_code == 0, decided.output
    # The number path: a code obtained with the number, and one the hub never issued.
    kojin.agencies.obtain_code_unverified(agency, kojin.numbering.number_for(town.twin_1.juminhyo_code), "N-1")
    kojin.agencies.get(agency).enrol("FORGED0000000000000000", "N-2")
    # An insurer enrols the son's form under his mother's 住民票コード: the family member's number.
    insurer = kojin.insurers.ensure(next(i for i in DEMO_INSURERS if i.insurer_id == agency))
    son = MemberDraft(
        town.mother.juminhyo_code, "髙橋　健一", "タカハシ　ケンイチ", "1", date(1990, 7, 8), "東京都文京区大塚1-2-3",
        "1120012", date(2026, 1, 1), 3, symbol="1",
    )  # fmt: skip
    insurer.enrol([son], today=date(2026, 1, 15), publish=False)
    # A public-funds account, in the person's own name.
    kojin.portal.accounts.register(
        town.son, validate_account("0005", "123", "ordinary", "7654321", "タカハシ ケンイチ")
    )

    audited = run("audit", "links", "--out", str(tmp_path / "audit"), "--json")
    assert audited.exit_code == 0, audited.output
    summary = json.loads(audited.stdout)
    by_path = summary["by_path"]
    assert {p: c["checked"] for p, c in by_path.items()} == {
        "matcher": 1,
        "clerk": 1,
        "clerk_second": 1,
        "number": 2,
        "insurer": 1,
        "account": 1,
    }
    assert summary["links_checked"] == 6 and summary["accounts_checked"] == 1
    assert by_path["number"]["findings"] == summary["by_kind"]["code_not_issued"] == 1
    assert by_path["clerk_second"]["findings"] == 1  # linked without the address agreeing
    # The insurer's member shares the mother's code with the matcher's link, and is not her.
    assert by_path["insurer"]["findings"] >= 3 and by_path["matcher"]["findings"] == 1
    assert summary["by_kind"]["code_shared"] == summary["by_kind"]["family_pattern"] == 1
    assert by_path["clerk"] == by_path["account"] == {"checked": 1, "findings": 0}

    html = (tmp_path / "audit" / "link-audit.html").read_text(encoding="utf-8")
    for path, counts in by_path.items():
        assert f'<tr data-path="{path}">' in html
        row = html.split(f'<tr data-path="{path}">', 1)[1].split("</tr>", 1)[0]
        assert f"<td>{counts['checked']}</td><td>{counts['findings']}</td>" in row
    assert "個人番号による取得" in html and "二者確認" in html
    with (tmp_path / "audit" / "link-audit.csv").open(encoding="utf-8", newline="") as handle:
        paths = {r["finding"]: r["path"] for r in csv.DictReader(handle)}
    assert paths["code_not_issued"] == "number" and paths["code_shared"] == "insurer,matcher"
