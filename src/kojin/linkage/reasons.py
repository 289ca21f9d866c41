"""Reason codes of linkage: 紐付け (linking insurers' members to residents).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.

The error classes only these codes are raised as are defined here too, so that the
table needs nothing from the modules that raise them; those modules import them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted
from kojin.core.i18n import pick

if TYPE_CHECKING:
    from kojin.linkage.members import Problem

TABLE = Table("linkage", "紐付け (linking insurers' members to residents)", prefixes=("linkage",))


class MemberFileError(InvalidInput):
    """A member file that cannot be used (加入者ファイルの誤り); every problem is listed."""

    def __init__(self, problems: Sequence[Problem], total: int) -> None:
        first = problems[0]
        more_ja = f"（ほか {total - 1} 件）" if total > 1 else ""
        more_en = f" (and {total - 1} more)" if total > 1 else ""
        super().__init__(
            MEMBERS_INVALID.code,
            *MEMBERS_INVALID.text(
                line=first.line,
                field_name=first.field,
                message_ja=first.message_ja,
                more_ja=more_ja,
                message_en=first.message_en,
                more_en=more_en,
            ),
            field=first.field,
        )
        self.problems = list(problems)
        self.total = total

    def report_lines(self) -> list[str]:
        """Every problem found, each on a line of its own, so the whole file can be fixed in one go."""
        lines = [self.one_line(), *("  " + problem.one_line() for problem in self.problems)]
        if self.total > len(self.problems):
            more = self.total - len(self.problems)
            lines.append(pick(f"  …ほか {more} 件", f"  … and {more} more"))
        return lines


AUDIT_OUT = TABLE.reason(
    "linkage.audit_out",
    InvalidInput,
    "出力先を作れません: {directory}（{strerror}）",
    "Cannot create the output directory {directory}: {strerror}",
    field="out",
)

CASE_CHANGED = TABLE.reason(
    "linkage.case_changed",
    Conflict,
    "案件 {case_id} は、開いた後に別の担当者が判断しました。開き直してください。",
    "Another clerk decided case {case_id} after it was opened; open it again.",
    field="case_id",
)

CASE_CLOSED = TABLE.reason(
    "linkage.case_closed",
    Conflict,
    "案件 {case_id} は処理済みです。",
    "Case {case_id} is already closed.",
    field="case_id",
)

CASE_NOT_FOUND = TABLE.reason(
    "linkage.case_not_found",
    NotFound,
    "案件 {case_id} はありません。",
    "No case {case_id}.",
    field="case_id",
)

CHOICE = TABLE.reason(
    "linkage.choice",
    KojinError,
    "紐付ける住民か「該当者なし」を選んでください。",
    "Choose a resident or no match.",
    field="choice",
)

CLERK = TABLE.reason(
    "linkage.clerk",
    InvalidInput,
    "判断する担当者は職員IDと氏名のある職員に限られます（合わせて100文字まで）。",
    "The clerk deciding must be a staff member with an id and a name (100 characters at most together).",
    field="clerk",
)

CONCURRENT = TABLE.reason(
    "linkage.concurrent",
    Conflict,
    "同じ加入者が同時に照会されました。もう一度実行してください。",
    "The same members were submitted at the same time; run it again.",
    field="member_id",
)

CSRF = TABLE.reason(
    "linkage.csrf",
    NotPermitted,
    "フォームの有効期限が切れたか、正しくありません。もう一度開き直してください。",
    "The form has expired or is not valid; open it again.",
    field="csrf_token",
)

DECISION = TABLE.reason(
    "linkage.decision",
    InvalidInput,
    "住民IDか「該当なし」のどちらか一方を指定してください。",
    "Give either a resident id or no-match, not both or neither.",
    field="resident_id",
)

MEMBER_REPEATED = TABLE.reason(
    "linkage.member_repeated",
    InvalidInput,
    "加入者番号 {repeated} が重複しています。",
    "Member id {repeated} appears more than once.",
    field="member_id",
)

MEMBERS_INVALID = TABLE.reason(
    "linkage.members_invalid",
    MemberFileError,
    "加入者ファイルに誤りがあります: {line}行目 {field_name}: {message_ja}{more_ja}",
    "The member file has errors: line {line} {field_name}: {message_en}{more_en}",
)

MEMBERS_UNREADABLE = TABLE.reason(
    "linkage.members_unreadable",
    InvalidInput,
    "加入者ファイルを読めません: {path}（{strerror}）",
    "Cannot read the member file {path}: {strerror}",
    field="members",
)

NOT_A_CANDIDATE = TABLE.reason(
    "linkage.not_a_candidate",
    InvalidInput,
    "住民 {resident_id} は案件 {case_id} の候補者ではありません。紐付けられるのは候補者だけです。",
    "Resident {resident_id} is not a candidate of case {case_id}; only a candidate can be linked.",
    field="resident_id",
)

OPTIONS = TABLE.reason(
    "linkage.options",
    KojinError,
    "--agency、--members、--out をすべて指定してください。",
    "Give --agency, --members and --out.",
    field="options",
)

OUT_IS_IN = TABLE.reason(
    "linkage.out_is_in",
    KojinError,
    "出力先が入力ファイルと同じです。",
    "The output is the input file.",
    field="out",
)

OUT_UNWRITABLE = TABLE.reason(
    "linkage.out_unwritable",
    InvalidInput,
    "結果ファイルを書けません: {path}（{strerror}）",
    "Cannot write the result file {path}: {strerror}",
    field="out",
)

SAME_CLERK = TABLE.reason(
    "linkage.same_clerk",
    NotPermitted,
    "案件 {case_id} の紐付けはあなたが提案したものです。別の担当者の確認が必要です（二者確認）。",
    "You proposed the link of case {case_id}; a different clerk must confirm it (two-person rule).",
    field="clerk",
)
