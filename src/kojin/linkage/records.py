"""What matching speaks of (照合の記録): members, residents' name forms and keys, candidates, results and reasons.

Kept apart from the rule (:mod:`kojin.linkage.matcher`) and the index
(:mod:`kojin.linkage.index`) so that the service, the review pages and the audit
can name these without the scoring machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kojin.linkage.normalise import AddressKey, kana_parts, name_key
from kojin.linkage.scoring import ADDRESS, BIRTH, FIELDS, GIVEN, SEX, SURNAME
from kojin.registry.domain import Sex


class Decision(StrEnum):
    """What the agency is told (照合結果)."""

    LINKED = "linked"
    REVIEW = "review"
    NO_MATCH = "no_match"


class Reason(StrEnum):
    """Why a member went to review (要確認の理由)."""

    AMBIGUOUS = "ambiguous"
    LOW_SCORE = "low_score"
    CONFLICTING_FIELD = "conflicting_field"
    MOVED = "moved"
    NAME_CHANGED = "name_changed"
    NO_MATCH = "no_match"


REASON_LABELS: dict[Reason, tuple[str, str]] = {
    Reason.AMBIGUOUS: ("候補が複数", "several candidates are close"),
    Reason.LOW_SCORE: ("一致度が低い", "the score is too low"),
    Reason.CONFLICTING_FIELD: ("項目の不一致", "a field disagrees"),
    Reason.MOVED: ("旧住所で一致（転居）", "agrees with an old address (moved)"),
    Reason.NAME_CHANGED: ("旧氏名で一致（氏名変更）", "agrees with an old name (name change)"),
    Reason.NO_MATCH: ("該当者なし", "nobody matches"),
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "name": ("氏名", "name"),
    SURNAME: ("氏", "surname"),
    GIVEN: ("名", "given name"),
    BIRTH: ("生年月日", "birth date"),
    SEX: ("性別", "sex"),
    ADDRESS: ("住所", "address"),
    "status": ("住民の状態", "resident status"),
    "existing_link": ("既存の連携", "existing link"),
}


@dataclass(frozen=True, slots=True)
class ReasonItem:
    code: Reason
    field: str | None = None

    def text(self) -> str:
        return f"{self.code.value}:{self.field}" if self.field else self.code.value

    @staticmethod
    def parse(text: str) -> ReasonItem:
        code, _, field_name = text.partition(":")
        return ReasonItem(Reason(code), field_name or None)


@dataclass(frozen=True)
class MemberRecord:
    """A member as an agency sends it: the four basic items (加入者の基本4情報)."""

    member_id: str
    name: str
    kana: str
    sex: Sex
    birth_date: date
    postal_code: str
    address: str


# The hot types are plain (not frozen) slotted dataclasses: a million of them are
# built when the index loads, and frozen ones cost four times as much to build.
@dataclass(slots=True)
class NameForm:
    """One name of a resident, folded: kanji parts and loose kana parts."""

    surname: str
    given: str
    surname_kana: str
    given_kana: str
    surname_strict: str = ""
    given_strict: str = ""

    @staticmethod
    def of(name: str, kana: str) -> NameForm:
        key = name_key(name)
        return NameForm(key.surname, key.given, *kana_parts(kana))


@dataclass(slots=True)
class ResidentEntry:
    """A resident's comparison keys: current name and address first, then old ones from history."""

    resident_id: int
    juminhyo_code: str
    status: str
    sex: str
    birth: tuple[int, int, int]
    names: tuple[NameForm, ...]
    addresses: tuple[AddressKey, ...]
    birth_ordinal: int = 0

    def __post_init__(self) -> None:
        if not self.birth_ordinal:
            self.birth_ordinal = date(*self.birth).toordinal()


@dataclass(slots=True)
class Candidate:
    """One scored candidate: levels in :data:`~kojin.linkage.scoring.FIELDS` order."""

    resident_id: int
    score: float
    levels: tuple[str, ...]
    via_old_name: bool
    via_old_address: bool
    kanji_exact: bool
    kana_exact: bool
    status: str

    def level(self, field_name: str) -> str:
        return self.levels[FIELDS.index(field_name)]


@dataclass(frozen=True)
class MatchResult:
    """The decision for one member, with the candidates a clerk would see."""

    member: MemberRecord
    decision: Decision
    resident_id: int | None
    score: float | None
    reasons: tuple[ReasonItem, ...]
    candidates: tuple[Candidate, ...]
    address_level: str | None = None

    @property
    def reason_text(self) -> str:
        return ";".join(r.text() for r in self.reasons)


# A stored row of current keys: resident_id, juminhyo_code, status, sex, birth,
# surname, given, surname_kana, given_kana, postal_code, prefecture, city, town,
# numbers, surname_strict, given_strict. The index keeps rows as they come and builds a ResidentEntry only when
# a member asks about that resident: at start-up that halves the time to load a
# million residents, and in worker processes the building happens in parallel.
KeyRow = tuple[
    int, str, str, str, tuple[int, int, int], str, str, str, str, str, str, str, str, tuple[int, ...], str, str
]


def entry_of_row(row: KeyRow, ordinal: int) -> ResidentEntry:
    (
        rid,
        code,
        status,
        sex,
        birth,
        surname,
        given,
        s_kana,
        g_kana,
        postal_code,
        pref,
        city,
        town,
        numbers,
        s_strict,
        g_strict,
    ) = row
    return ResidentEntry(
        rid,
        code,
        status,
        sex,
        birth,
        (NameForm(surname, given, s_kana, g_kana, s_strict, g_strict),),
        (AddressKey(postal_code, pref, city, town, numbers),),
        ordinal,
    )
