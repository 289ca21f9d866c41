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

from fpdf import FPDF

from kojin.eligibility.certificate import font_path, jp_date, printable
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
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title("資格情報のお知らせ")
    pdf.set_author(printable(view.insurer_name))
    pdf.set_creator("kojin")
    pdf.add_font("IPAexGothic", "", str(font_path()))
    pdf.add_page()
    pdf.set_font("IPAexGothic", size=18)
    pdf.cell(0, 12, "資格情報のお知らせ", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("IPAexGothic", size=9)
    pdf.cell(0, 6, "Notice of your health insurance details", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
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
    pdf.set_font("IPAexGothic", size=11)
    for label, value in rows:
        pdf.set_fill_color(235, 240, 248)
        pdf.cell(62, 9, label, border=1, fill=True)
        pdf.multi_cell(0, 9, printable(value), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font("IPAexGothic", size=9)
    notes = [
        "マイナ保険証の利用登録をされた方にお送りしています。医療機関・薬局ではマイナ保険証を使ってください。",
        "「ひも付く個人番号（下4桁）」が、あなたの個人番号の下4桁と違うときは、ご家族など別の方の番号で"
        "登録されているおそれがあります。保険者までご連絡ください。",
        "The last four digits above are those of the individual number this membership is linked to. "
        "If they are not yours, tell your insurer: another person's number may have been registered.",
    ]
    for note in notes:
        pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
