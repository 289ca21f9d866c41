"""Is this the same person? (本人の同一性の確認): the items a claim gives, against a register record.

Two paths name a person by an identifier someone typed — a move-in by the
住民票コード on the 転出証明書, an agency by the individual number on a form —
and each identifier belongs to exactly one person. A mistyped or misread
identifier is another person's, so the items that come with it must agree with
the identifier's record before anything is written.

Items are compared on the keys the matching service uses
(:mod:`kojin.linkage.normalise`): variant kanji, IVS selectors, widths and
spaces in names, and kana written in hiragana, half width or with long-vowel
marks compare equal; anything else is a mismatch. The address is compared
only when the claim gives one (a move-in changes it by nature).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kojin.core import reasons as core_reasons
from kojin.core.japan import parse_date, validate_name
from kojin.linkage.normalise import kana_loose, member_address, name_key, register_address
from kojin.numbering import reasons as numbering_reasons
from kojin.registry.domain import PersonDetails, Resident, Sex, Status, parse_sex

__all__ = ["ITEM_LABELS", "Claim", "claim_of", "item_words", "mismatched_items", "refuse_other_person"]

ITEM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("氏名", "name"),
    "kana": ("フリガナ", "kana"),
    "sex": ("性別", "sex"),
    "birth_date": ("生年月日", "birth date"),
    "address": ("住所", "address"),
}


@dataclass(frozen=True)
class Claim:
    """Who the caller says the person is (申告された基本4情報); ``kana`` and ``address`` optional."""

    name: str
    sex: Sex
    birth_date: date
    kana: str = ""
    address: str = ""


def claim_of(name: str, kana: str, sex: str, birth_date: str, address: str) -> Claim:
    """A member's four basic items as an operator or an API caller gives them (all but kana required)."""
    if not address.strip():
        raise core_reasons.NAME_EMPTY.error(what_ja="住所", what_en="address", field="address")
    return Claim(
        validate_name(name),
        parse_sex(sex),
        parse_date(birth_date, "birth_date"),
        kana=kana.strip(),
        address=address.strip(),
    )


def _address_agrees(line: str, record: Resident) -> bool:
    a = record.address
    agrees, numbers = member_address(a.postal_code, line).against(
        register_address(a.postal_code, a.prefecture, a.city, a.town, a.block)
    )
    # "partial": the claim leaves the last numbers out (本郷4-15 for 本郷4-15-14).
    return agrees and numbers in ("full", "partial")


def mismatched_items(claim: Claim, record: Resident) -> list[str]:
    """The items of ``claim`` that do not agree with ``record`` (empty when it is the same person)."""
    wrong: list[str] = []
    if name_key(claim.name).full != name_key(record.name).full:
        wrong.append("name")
    if claim.kana and record.kana and kana_loose(claim.kana) != kana_loose(record.kana):
        wrong.append("kana")
    if claim.sex is not record.sex:
        wrong.append("sex")
    if claim.birth_date != record.birth_date:
        wrong.append("birth_date")
    if claim.address and not _address_agrees(claim.address, record):
        wrong.append("address")
    return wrong


def item_words(items: list[str]) -> dict[str, str]:
    """The ``items_ja`` and ``items_en`` of a mismatch error."""
    return {
        "items_ja": "・".join(ITEM_LABELS[i][0] for i in items),
        "items_en": ", ".join(ITEM_LABELS[i][1] for i in items),
    }


def refuse_other_person(last: Resident | None, details: PersonDetails, *, card_confirmed: bool = False) -> None:
    """A person moving in must be the one their 住民票コード's last record names.

    A code is one person's for life: a misread or borrowed code would give the
    newcomer that person's number, agency codes and card. Name, kana, sex and
    birth date are compared; the address is not, as a move-in changes it.
    ``card_confirmed``: the person's own card, read at the counter, is the
    code's, so a name changed since the move-out (marriage) is accepted; sex
    and birth date must still agree. ``last`` is the code's newest record that
    has left (moved out or deceased).
    """
    if last is None:
        # J-LIS numbered the code but no register ever held it: nothing says who it is.
        raise numbering_reasons.JUMINHYO_CODE_PERSON_MISMATCH.error(**item_words(["name", "sex", "birth_date"]))
    if last.status is Status.DECEASED:
        raise numbering_reasons.JUMINHYO_CODE_HOLDER_DECEASED.error()
    wrong = mismatched_items(Claim(details.name, details.sex, details.birth_date, kana=details.kana), last)
    if card_confirmed:
        wrong = [item for item in wrong if item not in ("name", "kana")]
    if wrong:
        raise numbering_reasons.JUMINHYO_CODE_PERSON_MISMATCH.error(**item_words(wrong))
