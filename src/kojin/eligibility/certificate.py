"""資格確認書 (eligibility certificate) as a PDF, with the Japanese font embedded.

The font is IPAex Gothic (IPAexゴシック, IPA Font License v1.0), shipped in
``kojin/eligibility/data`` with its licence: a fresh ``pip install`` renders the
certificate without any system font. fpdf2 embeds only the glyphs used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from kojin.core.japan import wareki
from kojin.eligibility.domain import ratio_text


@dataclass(frozen=True, slots=True)
class CertificateView:
    """What a 資格確認書 shows (the insurer's copy of the member's record)."""

    certificate_id: str
    insurer_number: str
    insurer_name: str
    symbol: str
    number: str
    branch: str
    family: bool
    insured_name: str
    name: str
    kana: str
    sex: str
    birth_date: date
    address: str
    qualified_on: date
    ratio: int
    issued_on: date
    valid_until: date
    reason: str


@lru_cache(maxsize=1)
def font_path() -> Path:
    return Path(str(resources.files("kojin.eligibility") / "data" / "ipaexg.ttf"))


_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def printable(text: str) -> str:
    # IPAex has no variation-selector table: the base character is printed
    # (the register keeps the exact sequence; paper shows the usual glyph).
    return _SELECTORS.sub("", text)


def jp_date(day: date) -> str:
    return f"{wareki(day)}（{day.isoformat()}）"


REASON_TEXT = {
    "no_card": "マイナ保険証の利用登録がない方に交付しています。",
    "cancelled": "マイナ保険証の利用登録が解除されたため交付しています。",
    "renewal": "有効期限の到来により更新しました。",
}


def insurer_document(
    title: str, subtitle: str, insurer_name: str, rows: list[tuple[str, str]], notes: list[str], *, label_mm: int
) -> bytes:
    """An insurer's one-page A4 document to a member: a title, a table of labelled facts, notes under it."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_author(printable(insurer_name))
    pdf.set_creator("kojin")
    pdf.add_font("IPAexGothic", "", str(font_path()))
    pdf.add_page()
    pdf.set_font("IPAexGothic", size=18)
    pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("IPAexGothic", size=9)
    pdf.cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    pdf.set_font("IPAexGothic", size=11)
    for label, value in rows:
        pdf.set_fill_color(235, 240, 248)
        pdf.cell(label_mm, 9, label, border=1, fill=True)
        pdf.multi_cell(0, 9, printable(value), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font("IPAexGothic", size=9)
    for note in notes:
        if note:
            pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_certificate(view: CertificateView) -> bytes:
    """The 資格確認書 as PDF bytes (A6-like card layout on A4, one page)."""
    rows = [
        ("交付年月日", jp_date(view.issued_on)),
        ("有効期限", jp_date(view.valid_until)),
        ("記号", view.symbol or "―"),
        ("番号", view.number),
        ("枝番", view.branch or "―"),
        ("本人・家族の別", "家族（被扶養者）" if view.family else "本人（被保険者）"),
        ("被保険者氏名", view.insured_name),
        ("氏名", view.name),
        ("フリガナ", view.kana),
        ("性別", "男" if view.sex == "1" else "女"),
        ("生年月日", jp_date(view.birth_date)),
        ("住所", view.address),
        ("資格取得年月日", jp_date(view.qualified_on)),
        ("一部負担金の割合", f"{view.ratio // 10}割（{ratio_text(view.ratio)}）"),
        ("保険者番号", view.insurer_number),
        ("保険者名称", view.insurer_name),
        ("交付番号", view.certificate_id),
    ]
    notes = [
        REASON_TEXT.get(view.reason, ""),
        "医療機関・薬局の窓口でこの資格確認書を提示してください。記号・番号・枝番で資格を確認します。",
        "有効期限を過ぎたもの、資格を喪失した後のものは使えません。",
        "This certificate is valid up to the date above (at most five years from issue).",
    ]
    return insurer_document(
        "資格確認書", "Eligibility certificate (health insurance)", view.insurer_name, rows, notes, label_mm=50
    )
