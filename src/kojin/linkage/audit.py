"""The integrity audit of links (紐付けの総点検).

The 2023 audit of the real system found 8,351 wrong links in 82.08 M records;
the causes were matching without the full address and a family member's
number keyed from the same form. The public-funds account check that year
found accounts tied to several people by extracting exactly that, then
comparing surname, address and kana. This module re-checks every link, each
with the path it was made by (:class:`LinkPath`): by the matcher alone, by
one clerk or two, by an agency that had the number (取得番号), by an insurer's
enrolment, and — through :class:`AccountSource` — public-funds accounts
(公金受取口座), for:

- ``code_shared``: one agency code tied to several people (several residents,
  or members whose name or birth date differ);
- ``several_codes``: one person with several codes at one agency;
- ``kana_mismatch``: the member's kana disagrees with the register now;
- ``no_address_agreement``: the link was made without the address or postal
  code agreeing;
- ``family_pattern``: the linked resident shares the member's surname and
  address but not the given name or birth date — the family member's number;
- ``code_not_issued``: the agency holds a code the hub never issued to it;
- ``account_shared``: one account tied to several people;
- ``account_kana_mismatch``: the holder's kana disagrees with the register
  (with the family member whose name it is, when one lives at that address).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from kojin.linkage.matcher import (
    ADDRESS_AGREES,
    LINKABLE_NAME,
    Decision,
    Matcher,
    MemberRecord,
    ResidentEntry,
)
from kojin.linkage.normalise import kana_loose, name_key, split_name

__all__ = [
    "FINDING_LABELS",
    "PATH_LABELS",
    "AccountSource",
    "AuditReport",
    "Finding",
    "FindingKind",
    "HeldLink",
    "LinkPath",
    "LinkRow",
    "run_audit",
]


class AccountSource(Protocol):
    """Public-funds accounts to check: ``(account_key, holder_kana, resident_id)`` each."""

    def __iter__(self) -> Iterator[tuple[str, str, int]]: ...


class LinkPath(StrEnum):
    """How a link was made (紐付けの経路)."""

    MATCHER = "matcher"  # the matcher alone: one certain candidate
    CLERK = "clerk"  # one clerk, a candidate at or above the automatic threshold
    CLERK_SECOND = "clerk_second"  # two clerks: a candidate under the threshold
    NUMBER = "number"  # an agency that had the number (取得番号)
    INSURER = "insurer"  # an insurer's enrolment (資格取得)
    ACCOUNT = "account"  # a public-funds account registered by the person (公金受取口座)


PATH_LABELS: dict[LinkPath, tuple[str, str]] = {
    LinkPath.MATCHER: ("照合（自動）", "matcher (automatic)"),
    LinkPath.CLERK: ("担当者1人の判断", "one clerk"),
    LinkPath.CLERK_SECOND: ("担当者2人の判断（二者確認）", "two clerks"),
    LinkPath.NUMBER: ("個人番号による取得", "number path"),
    LinkPath.INSURER: ("医療保険者の資格取得", "insurer enrolment"),
    LinkPath.ACCOUNT: ("公金受取口座の登録", "public-funds account"),
}

# The matching service's stored ``method`` of a link, as a path.
METHOD_PATHS = {"auto": LinkPath.MATCHER, "clerk": LinkPath.CLERK, "clerk2": LinkPath.CLERK_SECOND}


class FindingKind(StrEnum):
    CODE_SHARED = "code_shared"
    SEVERAL_CODES = "several_codes"
    KANA_MISMATCH = "kana_mismatch"
    NO_ADDRESS_AGREEMENT = "no_address_agreement"
    FAMILY_PATTERN = "family_pattern"
    UNKNOWN_RESIDENT = "unknown_resident"
    CODE_NOT_ISSUED = "code_not_issued"
    ACCOUNT_SHARED = "account_shared"
    ACCOUNT_KANA_MISMATCH = "account_kana_mismatch"


FINDING_LABELS: dict[FindingKind, tuple[str, str]] = {
    FindingKind.CODE_SHARED: ("1つの機関別符号に複数の人", "one agency code, several people"),
    FindingKind.SEVERAL_CODES: ("1人に同じ機関の複数の符号", "one person, several codes at one agency"),
    FindingKind.KANA_MISMATCH: ("フリガナが住民票と不一致", "kana disagrees with the register"),
    FindingKind.NO_ADDRESS_AGREEMENT: ("住所の一致なしで紐付け", "linked without address agreement"),
    FindingKind.FAMILY_PATTERN: ("家族の番号の疑い", "a family member's number?"),
    FindingKind.UNKNOWN_RESIDENT: ("住民が見つからない", "resident not found"),
    FindingKind.CODE_NOT_ISSUED: ("符号が符号発行の記録にない", "code not issued to the agency"),
    FindingKind.ACCOUNT_SHARED: ("1つの口座に複数の人", "one account, several people"),
    FindingKind.ACCOUNT_KANA_MISMATCH: ("口座名義カナが住民票と不一致", "account holder kana disagrees"),
}


@dataclass(frozen=True)
class LinkRow:
    """One link to check: who the agency's member is said to be (紐付け), and by which path.

    ``member`` is what the agency holds of the person's four basic items (None
    when it holds none, as on the number path); ``resident_id`` is None when
    the hub never issued ``agency_code`` to the agency.
    """

    agency_id: str
    member_id: str
    resident_id: int | None
    agency_code: str
    member: MemberRecord | None
    address_level: str | None = None
    path: LinkPath = LinkPath.MATCHER
    issued: bool = True  # False: the hub never issued ``agency_code`` to the agency


@dataclass(frozen=True)
class HeldLink:
    """A link an agency keeps by its code alone; the hub and J-LIS tell the audit whom the code names."""

    agency_id: str
    member_id: str
    agency_code: str
    member: MemberRecord | None
    path: LinkPath


@dataclass(frozen=True)
class Finding:
    """One thing the audit found (点検結果)."""

    kind: FindingKind
    detail_ja: str
    detail_en: str
    agency_id: str = ""
    agency_code: str = ""
    member_ids: tuple[str, ...] = ()
    resident_ids: tuple[int, ...] = ()
    account_key: str = ""
    path: str = ""  # the paths of the links it is about, comma-separated

    @property
    def label(self) -> tuple[str, str]:
        return FINDING_LABELS[self.kind]


@dataclass
class AuditReport:
    """Everything one audit run found, with what it looked at."""

    findings: list[Finding] = field(default_factory=list)
    links_checked: int = 0
    accounts_checked: int = 0
    checked_by_path: dict[LinkPath, int] = field(default_factory=lambda: dict.fromkeys(LinkPath, 0))
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def by_path(self) -> dict[LinkPath, tuple[int, int]]:
        """For each path: links (or accounts) checked, and findings about them."""
        found = dict.fromkeys(LinkPath, 0)
        for finding in self.findings:
            for path in filter(None, finding.path.split(",")):
                found[LinkPath(path)] += 1
        return {p: (self.checked_by_path[p], found[p]) for p in LinkPath}

    def counts(self) -> dict[FindingKind, int]:
        out = dict.fromkeys(FindingKind, 0)
        for finding in self.findings:
            out[finding.kind] += 1
        return out

    def by_agency(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            if finding.agency_id:
                out[finding.agency_id] += 1
        return dict(sorted(out.items()))

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [f for f in self.findings if f.kind is kind]


def _identity(member: MemberRecord | None) -> tuple[str, object]:
    return ("", None) if member is None else (name_key(member.name).full, member.birth_date)


def _kana_of(entry: ResidentEntry) -> str:
    return entry.names[0].surname_kana + entry.names[0].given_kana


def _member_kana(kana: str) -> str:
    surname, given = split_name(kana)
    return kana_loose(surname) + kana_loose(given)


def _about(row: LinkRow, kind: FindingKind, ja: str, en: str) -> Finding:
    residents = () if row.resident_id is None else (row.resident_id,)
    return Finding(kind, ja, en, row.agency_id, row.agency_code, (row.member_id,), residents, path=row.path.value)


def _check_links(rows: list[LinkRow], matcher: Matcher, report: AuditReport) -> None:
    _check_codes(rows, report)
    for row in rows:
        _check_link(row, matcher, report)


def _check_codes(rows: list[LinkRow], report: AuditReport) -> None:
    """One code per person and one person per code, at each agency."""
    by_code: dict[tuple[str, str], list[LinkRow]] = defaultdict(list)
    by_person: dict[tuple[str, int], set[str]] = defaultdict(set)
    for row in rows:
        by_code[(row.agency_id, row.agency_code)].append(row)
        if row.resident_id is not None:
            by_person[(row.agency_id, row.resident_id)].add(row.agency_code)
    for (agency_id, code), group in by_code.items():
        residents = sorted({r.resident_id for r in group if r.resident_id is not None})
        identities = {_identity(r.member) for r in group if r.member is not None}
        if len(residents) > 1 or len(identities) > 1:
            report.findings.append(
                Finding(
                    FindingKind.CODE_SHARED,
                    f"機関別符号が {len(group)} 件の加入者（{len(residents)} 人の住民）に使われています。",
                    f"The agency code is used by {len(group)} members ({len(residents)} resident(s)).",
                    agency_id,
                    code,
                    tuple(sorted(r.member_id for r in group)),
                    tuple(residents),
                    path=",".join(sorted({r.path.value for r in group})),
                )
            )
    for (agency_id, resident_id), codes in by_person.items():
        if len(codes) > 1:
            report.findings.append(
                Finding(
                    FindingKind.SEVERAL_CODES,
                    f"同じ住民に {len(codes)} 個の機関別符号があります。",
                    f"The resident has {len(codes)} codes at this agency.",
                    agency_id,
                    ";".join(sorted(codes)),
                    resident_ids=(resident_id,),
                )
            )


def _check_link(row: LinkRow, matcher: Matcher, report: AuditReport) -> None:
    """One link against the register: the code was issued, the resident exists, the kana and the address
    agree, no family pattern (the last three where the agency holds the four items)."""
    if not row.issued:
        report.findings.append(
            _about(
                row,
                FindingKind.CODE_NOT_ISSUED,
                "機関が持つ機関別符号を、情報提供ネットワークシステムはこの機関に発行していません。",
                "The agency holds a code the hub never issued to it.",
            )
        )
        return
    entry = None if row.resident_id is None else matcher.index.entry_for(row.resident_id)
    if entry is None:
        report.findings.append(
            _about(
                row,
                FindingKind.UNKNOWN_RESIDENT,
                "紐付け先の住民が照合用索引にありません。",
                "The linked resident is not in the comparison index.",
            )
        )
        return
    if row.member is None:
        return
    if _member_kana(row.member.kana) != _kana_of(entry):
        report.findings.append(
            _about(
                row,
                FindingKind.KANA_MISMATCH,
                f"加入者のフリガナ「{row.member.kana}」が住民票と一致しません。",
                f"The member's kana “{row.member.kana}” disagrees with the register.",
            )
        )
    candidate = matcher.score_record(row.member, entry)
    level = row.address_level or candidate.level("address")
    if level not in ADDRESS_AGREES:
        report.findings.append(
            _about(
                row,
                FindingKind.NO_ADDRESS_AGREEMENT,
                f"住所も郵便番号も一致しないまま紐付けられています（{PATH_LABELS[row.path][0]}）。",
                f"Linked while neither the address nor the postal code agreed ({PATH_LABELS[row.path][1]}).",
            )
        )
    surname, given, birth, _sex, address = candidate.levels
    if surname in LINKABLE_NAME and address in ADDRESS_AGREES and (given not in LINKABLE_NAME or birth != "exact"):
        report.findings.append(_family_pattern(row, matcher))


def _family_pattern(row: LinkRow, matcher: Matcher) -> Finding:
    """Linked to a relative (same surname and address, another given name or birth date): who the matcher finds."""
    assert row.member is not None
    suggestion = matcher.match(row.member)
    hint_ja = hint_en = ""
    others = tuple(c.resident_id for c in suggestion.candidates if c.resident_id != row.resident_id)
    if suggestion.decision is Decision.LINKED and suggestion.resident_id != row.resident_id:
        hint_ja = f" 照合では住民 {suggestion.resident_id} が該当します。"
        hint_en = f" The matcher finds resident {suggestion.resident_id}."
    elif suggestion.candidates and suggestion.candidates[0].resident_id != row.resident_id:
        closest = suggestion.candidates[0].resident_id
        hint_ja = f" 照合で最も近い候補は住民 {closest} です。"
        hint_en = f" The matcher's closest candidate is resident {closest}."
    return Finding(
        FindingKind.FAMILY_PATTERN,
        "同じ住所・同じ氏の住民に紐付いていますが、名または生年月日が異なります。" + hint_ja,
        "Linked to a resident with the same surname and address but another given name or birth date." + hint_en,
        row.agency_id,
        row.agency_code,
        (row.member_id,),
        (*((row.resident_id,) if row.resident_id is not None else ()), *others[:3]),
        path=row.path.value,
    )


def _check_accounts(accounts: AccountSource, matcher: Matcher, report: AuditReport) -> None:
    index = matcher.index
    holders: dict[str, set[int]] = defaultdict(set)
    kana_of: dict[str, str] = {}
    rows = list(accounts)
    report.accounts_checked = report.checked_by_path[LinkPath.ACCOUNT] = len(rows)
    by_address: dict[tuple[str, str, tuple[int, ...]], list[ResidentEntry]] | None = None
    for key, holder_kana, resident_id in rows:
        holders[key].add(resident_id)
        kana_of[key] = holder_kana
    for key, people in holders.items():
        if len(people) > 1:
            report.findings.append(
                Finding(
                    FindingKind.ACCOUNT_SHARED,
                    f"1つの口座が {len(people)} 人に登録されています。",
                    f"One account is registered to {len(people)} people.",
                    resident_ids=tuple(sorted(people)),
                    account_key=key,
                    path=LinkPath.ACCOUNT.value,
                )
            )
    for key, holder_kana, resident_id in rows:
        entry = index.entry_for(resident_id)
        if entry is None:
            continue
        holder = _member_kana(holder_kana)
        if holder == _kana_of(entry):
            continue
        if by_address is None:
            by_address = defaultdict(list)
            for e in index.entries():
                a = e.addresses[0]
                by_address[(a.postal_code, a.town, a.numbers)].append(e)
        a = entry.addresses[0]
        family = [
            e.resident_id
            for e in by_address.get((a.postal_code, a.town, a.numbers), [])
            if e.resident_id != resident_id and _kana_of(e) == holder
        ]
        hint_ja = f" 同じ住所の住民 {family[0]} の名義です。" if family else ""
        hint_en = f" It is the name of resident {family[0]} at the same address." if family else ""
        report.findings.append(
            Finding(
                FindingKind.ACCOUNT_KANA_MISMATCH,
                f"口座名義「{holder_kana}」が住民票のフリガナと一致しません。" + hint_ja,
                f"The account holder “{holder_kana}” disagrees with the register's kana." + hint_en,
                resident_ids=(resident_id, *family[:1]),
                account_key=key,
                path=LinkPath.ACCOUNT.value,
            )
        )


def run_audit(
    links: Iterable[LinkRow],
    matcher: Matcher,
    *,
    held: Iterable[LinkRow] = (),
    accounts: AccountSource | None = None,
) -> AuditReport:
    """Check every link (and account) against the register's current keys in ``matcher``."""
    report = AuditReport()
    rows = [*links, *held]
    report.links_checked = len(rows)
    for row in rows:
        report.checked_by_path[row.path] += 1
    _check_links(rows, matcher, report)
    if accounts is not None:
        _check_accounts(accounts, matcher, report)
    order = list(FindingKind)
    report.findings.sort(key=lambda f: (order.index(f.kind), f.agency_id, f.member_ids, f.account_key))
    return report
