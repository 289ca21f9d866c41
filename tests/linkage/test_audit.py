"""The integrity audit (総点検): every planted pattern is found; the report renders."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from kojin.app import Kojin
from kojin.linkage.audit import AuditReport, FindingKind, HeldLink, LinkPath, LinkRow
from kojin.linkage.matcher import Decision, MemberRecord
from kojin.linkage.report import bar_chart, render_html, write_report
from kojin.linkage.review import Clerk
from kojin.registry.domain import Sex
from tests.linkage.conftest import Town


def _member(member_id: str, name: str, kana: str, sex: str, born: date, postal: str, address: str) -> MemberRecord:
    return MemberRecord(member_id, name, kana, Sex(sex), born, postal, address)


MOTHER = _member("K-1", "高橋　和子", "タカハシ　カズコ", "2", date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3")
# The son's line, which a clerk wrongly links to the mother (the family member's number).
SON_LINE = _member(
    "K-2", "高橋　健一", "タカハシ　ケンイチ", "1", date(1990, 7, 15), "1120012", "東京都文京区大塚1-2-3"
)
ELSEWHERE = _member("K-3", "山田　太郎", "ヤマダ　タロウ", "1", date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1")
YAMADA = _member("K-4", "山田　太郎", "ヤマダ　タロウ", "1", date(1980, 4, 1), "1130033", "東京都文京区本郷4-15-14")


class Accounts:
    """An in-memory public-funds account source (公金受取口座)."""

    def __init__(self, rows: list[tuple[str, str, int]]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[tuple[str, str, int]]:
        return iter(self.rows)


def _by_two_clerks(kojin: Kojin, case_id: int, resident_id: int) -> None:
    first = kojin.matching.decide(case_id, clerk=Clerk("l.a", "窓口 A"), resident_id=resident_id)
    if first.outcome == "proposed":
        kojin.matching.decide(case_id, clerk=Clerk("l.b", "窓口 B"), resident_id=resident_id)


def _plant(kojin: Kojin, town: Town, agency: str) -> list[LinkRow]:
    mother, _son_line, elsewhere, yamada = kojin.matching.link_members(agency, [MOTHER, SON_LINE, ELSEWHERE, YAMADA])
    assert mother.decision is Decision.LINKED and yamada.decision is Decision.LINKED
    assert elsewhere.case_id is not None
    # Two clerks agreeing on a member with no address agreement.
    _by_two_clerks(kojin, elsewhere.case_id, town.double.resident_id)
    # The register changes after linking: 山田太郎's reading is corrected.
    kojin.register.change_name(town.yamada.resident_id, name="山田　太郎", kana="ヤマダ　フトシ")
    # Links an agency holds from elsewhere: one person under two codes.
    held_member = _member(
        "H-1", "鈴木　大翔", "スズキ　ヒロト", "1", date(2015, 6, 2), "1130022", "東京都文京区千駄木3-1-2"
    )
    # The son's line enrolled with his mother's code — the family member's number, keyed from the same form.
    mother_code = kojin.matching.code_for(agency, town.mother.resident_id)
    return [
        LinkRow(agency, "K-2", town.mother.resident_id, mother_code, SON_LINE, None, LinkPath.INSURER),
        LinkRow(agency, "H-1", town.twin_1.resident_id, "CODE-ONE", held_member, "full", LinkPath.NUMBER),
        LinkRow(agency, "H-2", town.twin_1.resident_id, "CODE-TWO", held_member, "full", LinkPath.NUMBER),
    ]


def test_every_pattern_is_found(kojin: Kojin, town: Town, agency: str, tmp_path: Path) -> None:
    held = _plant(kojin, town, agency)
    accounts = Accounts(
        [
            ("0001-001-1234567", "ﾀｶﾊｼ ｶｽﾞｺ", town.mother.resident_id),  # fine
            ("0001-001-7654321", "スズキ　ヒロト", town.twin_1.resident_id),
            ("0001-001-7654321", "スズキ　ヤマト", town.twin_2.resident_id),  # one account, two people
            ("0005-002-1111111", "タカハシ　カズコ", town.son.resident_id),  # in the mother's name
        ]
    )
    # A code the hub never issued to the agency.
    forged = HeldLink(agency, "N-9", "NOT-A-CODE", None, LinkPath.NUMBER)
    report = kojin.matching.audit(held=held, by_code=[forged], accounts=accounts)
    assert report.links_checked == 7 and report.accounts_checked == 4
    [not_issued] = report.of_kind(FindingKind.CODE_NOT_ISSUED)
    assert not_issued.member_ids == ("N-9",) and not_issued.path == "number"

    [shared] = report.of_kind(FindingKind.CODE_SHARED)
    assert set(shared.member_ids) == {"K-1", "K-2"} and shared.resident_ids == (town.mother.resident_id,)
    assert shared.path == "insurer,matcher"
    [several] = report.of_kind(FindingKind.SEVERAL_CODES)
    assert several.resident_ids == (town.twin_1.resident_id,) and several.agency_code == "CODE-ONE;CODE-TWO"
    kana = report.of_kind(FindingKind.KANA_MISMATCH)
    assert {f.member_ids for f in kana} >= {("K-4",), ("K-2",)}
    [no_address] = report.of_kind(FindingKind.NO_ADDRESS_AGREEMENT)
    assert no_address.member_ids == ("K-3",) and no_address.path == "clerk_second"
    assert "担当者2人" in no_address.detail_ja
    [family] = report.of_kind(FindingKind.FAMILY_PATTERN)
    assert family.member_ids == ("K-2",) and family.resident_ids[0] == town.mother.resident_id
    assert f"{town.son.resident_id}" in family.detail_ja  # the matcher's own answer: the son
    [account] = report.of_kind(FindingKind.ACCOUNT_SHARED)
    assert account.account_key == "0001-001-7654321"
    assert set(account.resident_ids) == {town.twin_1.resident_id, town.twin_2.resident_id}
    holder = {f.account_key: f for f in report.of_kind(FindingKind.ACCOUNT_KANA_MISMATCH)}
    assert set(holder) == {"0005-002-1111111"}
    assert holder["0005-002-1111111"].resident_ids == (town.son.resident_id, town.mother.resident_id)
    assert report.counts()[FindingKind.UNKNOWN_RESIDENT] == 0

    csv_path, html_path = write_report(report, tmp_path / "audit")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(report.findings)
    assert {r["finding"] for r in rows} >= {k.value for k in FindingKind} - {"unknown_resident"}
    html = html_path.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and '<html lang="ja">' in html
    assert "<svg" in html and 'role="img"' in html and "<title>" in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "紐付けの総点検" in html and "家族の番号の疑い" in html


def test_a_clean_audit_and_an_empty_report(kojin: Kojin, town: Town, agency: str) -> None:
    kojin.matching.link_members(agency, [YAMADA, MOTHER])
    report = kojin.matching.audit()
    assert report.links_checked == 2 and report.findings == []
    html = render_html(AuditReport())
    assert "指摘はありません" in html


def test_bar_chart_is_plain_svg() -> None:
    svg = str(bar_chart([("<種類>", 3), ("b", 0)], title="件数 & more"))
    assert svg.startswith("<svg") and "&lt;種類&gt;" in svg and "件数 &amp; more" in svg
    assert str(bar_chart([], title="empty")).count("<rect") == 0
