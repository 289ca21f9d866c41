"""資格情報のお知らせ (notice of insurance details) as a PDF, as insurers send card-registered members.

It carries what the insurer holds (name, birth date, insurer, symbol and
number, share of cost) and, as kojin's own addition, the last four digits of
the individual number the membership is linked to, masked as ``********NNNN``:
a family member's number keyed in by mistake at enrolment shows as digits the
member does not recognise. The insurer never holds those digits; J-LIS
answers them for the notice being made (:mod:`kojin.eligibility.links`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kojin.eligibility.certificate import insurer_document, jp_date
from kojin.eligibility.domain import ratio_text

MASK = "********"


@dataclass(frozen=True, slots=True)
class NoticeView:
    """What a 資格情報のお知らせ shows; ``number_tail`` is four digits from J-LIS, never more."""

    insurer_number: str
    insurer_name: str
    symbol: str
    number: str
    branch: str
    family: bool
    name: str
    kana: str
    birth_date: date
    qualified_on: date
    ratio: int
    issued_on: date
    number_tail: str

    def __post_init__(self) -> None:
        if len(self.number_tail) != 4 or not self.number_tail.isdigit():
            raise ValueError("number_tail must be the last four digits only")

    @property
    def masked_number(self) -> str:
        return MASK + self.number_tail


def render_notice(view: NoticeView) -> bytes:
    """The notice as PDF bytes (one A4 page)."""
    rows = [
        ("作成年月日", jp_date(view.issued_on)),
        ("氏名", view.name),
        ("フリガナ", view.kana),
        ("生年月日", jp_date(view.birth_date)),
        ("本人・家族の別", "家族（被扶養者）" if view.family else "本人（被保険者）"),
        ("保険者番号", view.insurer_number),
        ("保険者名称", view.insurer_name),
        ("記号", view.symbol or "―"),
        ("番号", view.number),
        ("枝番", view.branch or "―"),
        ("資格取得年月日", jp_date(view.qualified_on)),
        ("一部負担金の割合", f"{view.ratio // 10}割（{ratio_text(view.ratio)}）"),
        ("ひも付く個人番号（下4桁）", view.masked_number),
    ]
    notes = [
        "マイナ保険証の利用登録をされた方にお送りしています。医療機関・薬局ではマイナ保険証を使ってください。",
        "「ひも付く個人番号（下4桁）」が、あなたの個人番号の下4桁と違うときは、ご家族など別の方の番号で"
        "登録されているおそれがあります。保険者までご連絡ください。",
        "The last four digits above are those of the individual number this membership is linked to. "
        "If they are not yours, tell your insurer: another person's number may have been registered.",
    ]
    return insurer_document(
        "資格情報のお知らせ", "Notice of your health insurance details", view.insurer_name, rows, notes, label_mm=62
    )
