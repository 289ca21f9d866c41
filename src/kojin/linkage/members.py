"""Member lists in and results out (加入者ファイルと照合結果ファイル).

The input is checked whole before anything is matched: every problem is
reported with its line number, and a file with any problem is refused as a
whole. Results are written to a temporary file beside the target and renamed
into place only when complete, so a failed run leaves no file at all.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kojin.core.errors import KojinError
from kojin.core.i18n import pick
from kojin.core.japan import is_any_kana, normalise_postal_code
from kojin.linkage import reasons as linkage_reasons
from kojin.linkage.matcher import Decision, MatchResult, MemberRecord
from kojin.linkage.reasons import MemberFileError as MemberFileError
from kojin.registry import postal
from kojin.registry.domain import Sex

INPUT_COLUMNS = ("member_id", "name", "kana", "sex", "birth_date", "postal_code", "address")
OUTPUT_COLUMNS = ("member_id", "decision", "resident_id", "agency_code", "score", "reasons")

_MAX_PROBLEMS = 50
_MAX_FIELD = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, where it is."""

    line: int
    field: str
    message_ja: str
    message_en: str

    def one_line(self) -> str:
        return pick(
            f"{self.line}行目 [{self.field}]: {self.message_ja}", f"line {self.line} [{self.field}]: {self.message_en}"
        )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MemberFileError(
            [
                Problem(
                    line,
                    "encoding",
                    "UTF-8 ではありません（Shift_JIS 等の可能性）。UTF-8 で保存してください。",
                    "The file is not UTF-8 (Shift_JIS perhaps); save it as UTF-8.",
                )
            ],
            1,
        ) from None


def _check_row(
    line: int, row: dict[str, str], seen: dict[str, int], today: date
) -> tuple[MemberRecord | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(field_name: str, ja: str, en: str) -> None:
        problems.append(Problem(line, field_name, ja, en))

    values = {c: (row.get(c) or "").strip() for c in INPUT_COLUMNS}
    for column, value in values.items():
        if len(value) > _MAX_FIELD * 2:
            bad(column, "長すぎます。", "too long.")
    member_id = values["member_id"]
    if not member_id:
        bad("member_id", "加入者番号が空です。", "The member id is empty.")
    elif len(member_id) > 64:
        bad("member_id", "加入者番号は64文字までです。", "A member id is 64 characters at most.")
    elif member_id in seen:
        bad(
            "member_id",
            f"加入者番号が{seen[member_id]}行目と重複しています。",
            f"The member id repeats line {seen[member_id]}.",
        )
    else:
        seen[member_id] = line
    if not values["name"]:
        bad("name", "氏名が空です。", "The name is empty.")
    elif len(values["name"]) > _MAX_FIELD:
        bad("name", "氏名が長すぎます。", "The name is too long.")
    kana = values["kana"]
    if not kana:
        bad("kana", "フリガナが空です。", "The kana reading is empty.")
    elif not is_any_kana(kana):
        bad("kana", "フリガナはカタカナかひらがなで書いてください。", "The kana reading must be katakana or hiragana.")
    sex: Sex | None = None
    try:
        sex = Sex(values["sex"])
    except ValueError:
        bad("sex", f"性別「{values['sex']}」は 1（男）か 2（女）です。", f"Sex {values['sex']!r} must be 1 or 2.")
    birth: date | None = None
    try:
        birth = date.fromisoformat(values["birth_date"])
    except ValueError:
        bad(
            "birth_date",
            f"生年月日「{values['birth_date']}」は存在しないか YYYY-MM-DD ではありません。",
            f"Birth date {values['birth_date']!r} is not a real date in YYYY-MM-DD form.",
        )
    if birth is not None and not date(1880, 1, 1) <= birth <= today:
        bad("birth_date", "生年月日が未来か古すぎます。", "The birth date is in the future or implausibly old.")
        birth = None
    code = ""
    try:
        code = normalise_postal_code(values["postal_code"])
        postal.areas_for(code)
    except KojinError as exc:
        bad("postal_code", exc.message_ja, exc.message_en)
    if not values["address"]:
        bad("address", "住所が空です。", "The address is empty.")
    if problems or sex is None or birth is None:
        return None, problems
    record = MemberRecord(member_id, values["name"], kana, sex, birth, code, values["address"])
    return record, problems


def parse_members(data: bytes, *, today: date | None = None) -> list[MemberRecord]:
    """Read a UTF-8 member CSV; :class:`MemberFileError` lists every problem with its line."""
    today = today or date.today()
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in INPUT_COLUMNS if c not in header]
    if missing:
        raise MemberFileError(
            [
                Problem(
                    1,
                    "header",
                    f"列がありません: {', '.join(missing)}",
                    f"Missing columns: {', '.join(missing)}; expected {', '.join(INPUT_COLUMNS)}.",
                )
            ],
            1,
        )
    reader.fieldnames = header
    records: list[MemberRecord] = []
    problems: list[Problem] = []
    total = 0
    seen: dict[str, int] = {}
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                found = [Problem(line, "columns", "列が多すぎます。", "Too many fields on this line.")]
            else:
                record, found = _check_row(line, row, seen, today)
                if record is not None:
                    records.append(record)
            total += len(found)
            if len(problems) < _MAX_PROBLEMS:
                problems.extend(found[: _MAX_PROBLEMS - len(problems)])
    except csv.Error as exc:
        problems.append(Problem(line + 1, "csv", f"CSV として読めません: {exc}", f"Not valid CSV: {exc}"))
        total += 1
    if problems:
        raise MemberFileError(problems, total)
    if not records:
        raise MemberFileError([Problem(1, "rows", "加入者が1件もありません。", "The file has no members.")], 1)
    return records


def read_members(path: Path) -> list[MemberRecord]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise linkage_reasons.MEMBERS_UNREADABLE.error(path=path, strerror=exc.strerror) from None
    return parse_members(data)


@dataclass(frozen=True)
class Outcome:
    """One output row: what the agency is told about one member."""

    member_id: str
    decision: Decision
    resident_id: int | None
    agency_code: str | None
    score: float | None
    reasons: str
    case_id: int | None = None

    @staticmethod
    def of(result: MatchResult, agency_code: str | None, case_id: int | None) -> Outcome:
        return Outcome(
            result.member.member_id,
            result.decision,
            result.resident_id,
            agency_code,
            result.score,
            result.reason_text,
            case_id,
        )

    def row(self) -> tuple[str, str, str, str, str, str]:
        linked = self.decision is Decision.LINKED
        return (
            self.member_id,
            self.decision.value,
            str(self.resident_id) if linked and self.resident_id is not None else "",
            self.agency_code or "" if linked else "",
            "" if self.score is None else f"{self.score:.1f}",
            self.reasons,
        )


def write_outcomes(path: Path, outcomes: Iterable[Outcome]) -> None:
    """Write the result CSV atomically: a temporary file renamed into place, or nothing."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise linkage_reasons.OUT_UNWRITABLE.error(path=path, strerror=exc.strerror) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(OUTPUT_COLUMNS)
            for outcome in outcomes:
                writer.writerow(outcome.row())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
