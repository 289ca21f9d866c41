"""A Fellegi–Sunter model for the four basic items (基本4情報の照合スコア).

Why our own model and not Splink: Splink (DuckDB underneath) deduplicates a
million records in about 25 s on 2 cores, but it is built for batch
deduplication of whole tables, needs pandas/DuckDB in the process, and would
make the one-member question an agency asks ("who is this?") a table job. The
matcher here answers one member at a time from an in-memory index, scores the
handful of candidates a block yields in pure Python, and the same code serves
the single look-up, the batch and the benchmark (1 M members matched in about
a minute on 2 busy cores, with the index loaded once; see bench/linkage.py).
What Splink contributes —
m/u probabilities, EM estimation, term-frequency adjustment — is a few dozen
lines, written out below.

The model:

- five comparisons, each with a few ordered levels (:data:`LEVELS`). Names are
  compared as (kanji, kana) pairs per part, surname and given name, because the
  kanji and its reading are not independent evidence: a level says which of the
  two agree and how closely.
- each level has m = P(level | same person) and u = P(level | different people);
  its weight is log2(m/u). The defaults (:data:`DEFAULT_M`, :data:`DEFAULT_U`) were
  set from the synthetic population, where the truth is known (``bench/linkage.py
  --fit``), and rounded; :func:`estimate_em` re-estimates m (and optionally u)
  without labels, and on the same pairs agrees with the supervised m.
- term frequencies: agreeing on 佐藤 is weaker evidence than agreeing on 勅使河原,
  so an exact name, birth date or address agreement uses the value's frequency in
  the register as u (:class:`TermFrequencies`).
- the prior log2(1/N), N the register's size, turns the sum into posterior
  bits: a score of 10 means odds of 1024 to 1 that this is the person.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

__all__ = [
    "DEFAULT_M",
    "DEFAULT_U",
    "FIELDS",
    "LEVELS",
    "Model",
    "TermFrequencies",
    "compare_birth",
    "compare_name_part",
    "estimate_em",
    "within_one_edit",
]

SURNAME: Final = "surname"
GIVEN: Final = "given"
BIRTH: Final = "birth_date"
SEX: Final = "sex"
ADDRESS: Final = "address"

FIELDS: Final = (SURNAME, GIVEN, BIRTH, SEX, ADDRESS)

# Levels, best first. For names: "exact" kanji and kana agree; "kana_kanji_close"
# the reading agrees and the kanji share a character (大野/小野, 裕子/祐子);
# "kanji_kana_close" the kanji agree and the kana is one edit off (a typo);
# "close" both one edit off; "kana_only" / "kanji_only" one agrees and the other
# is quite different (a family member's name keyed from the same form);
# "none" neither.
NAME_LEVELS: Final = ("exact", "kana_kanji_close", "kanji_kana_close", "close", "kana_only", "kanji_only", "none")
LEVELS: Final[dict[str, tuple[str, ...]]] = {
    SURNAME: NAME_LEVELS,
    GIVEN: NAME_LEVELS,
    BIRTH: ("exact", "near", "none"),
    SEX: ("agree", "disagree"),
    # full: postal code, town and every block number; full_no_postal: town and
    # numbers but another postal code; partial: postal and town, numbers left
    # out; postal_only: the postal area only; town_only: the town only.
    ADDRESS: ("full", "full_no_postal", "partial", "postal_only", "town_only", "none"),
}

# m: how often the same person's records show each level; u: how often two
# different people do by chance. Both set from the synthetic population, where
# the truth is known (``bench/linkage.py --members 100000 --fit``: m from the
# true pairs, u from random pairs), rounded, with small floors where the sample
# saw nothing (a zero would make a level impossible rather than unlikely). EM
# without labels finds m within a point of these (see tests/linkage/test_scoring.py
# and the fit's ``m_em``).
DEFAULT_M: Final[dict[str, dict[str, float]]] = {
    SURNAME: {
        "exact": 0.975,
        "kana_kanji_close": 0.004,
        "kanji_kana_close": 0.010,
        "close": 0.002,
        "kana_only": 0.002,
        "kanji_only": 0.002,
        "none": 0.005,
    },
    GIVEN: {
        "exact": 0.967,
        "kana_kanji_close": 0.005,
        "kanji_kana_close": 0.013,
        "close": 0.002,
        "kana_only": 0.002,
        "kanji_only": 0.002,
        "none": 0.009,
    },
    BIRTH: {"exact": 0.988, "near": 0.006, "none": 0.006},
    SEX: {"agree": 0.998, "disagree": 0.002},
    ADDRESS: {
        "full": 0.955,
        "full_no_postal": 0.003,
        "partial": 0.020,
        "postal_only": 0.003,
        "town_only": 0.001,
        "none": 0.018,
    },
}
DEFAULT_U: Final[dict[str, dict[str, float]]] = {
    SURNAME: {
        "exact": 0.0039,
        "kana_kanji_close": 0.0004,
        "kanji_kana_close": 0.00002,
        "close": 0.0058,
        "kana_only": 0.00002,
        "kanji_only": 0.00001,
        "none": 0.98985,
    },
    GIVEN: {
        "exact": 0.0031,
        "kana_kanji_close": 0.0017,
        "kanji_kana_close": 0.00014,
        "close": 0.0103,
        "kana_only": 0.0003,
        "kanji_only": 0.00008,
        "none": 0.98438,
    },
    BIRTH: {"exact": 0.00002, "near": 0.004, "none": 0.99598},
    SEX: {"agree": 0.5, "disagree": 0.5},
    ADDRESS: {
        "full": 0.00002,
        "full_no_postal": 0.000001,
        "partial": 0.00005,
        "postal_only": 0.0013,
        "town_only": 0.0032,
        "none": 0.995429,
    },
}

_LOG2 = math.log2
_K = TypeVar("_K")


def within_one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours at most (Damerau)."""
    la, lb = len(a), len(b)
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) <= 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if la > lb:
        a, b, la, lb = b, a, lb, la
    if lb - la != 1:
        return False
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _is_han(ch: str) -> bool:
    return ch >= "\u3400"


def _kanji_close(a: str, b: str) -> bool:
    """One edit apart, or (for kanji, where one character carries meaning) sharing a character.

    Names in the Latin alphabet share letters by chance (KIM and PARK share K),
    so for them only one edit counts as close.
    """
    if not a or not b:
        return False
    if within_one_edit(a, b):
        return True
    shared = set(a).intersection(b)
    return any(_is_han(ch) for ch in shared)


def compare_name_part(
    kanji_a: str, kana_a: str, kanji_b: str, kana_b: str, strict_a: str = "", strict_b: str = ""
) -> str:
    """The level of one name part.

    ``kana_*`` are :func:`~kojin.linkage.normalise.kana_loose` keys, which decide
    agreement; ``strict_*`` (:func:`~kojin.linkage.normalise.kana_strict`), when
    given, also count for "one typo apart".
    """
    kanji_eq = kanji_a == kanji_b
    kana_eq = kana_a == kana_b
    if kanji_eq and kana_eq:
        return "exact"
    if kana_eq:
        return "kana_kanji_close" if _kanji_close(kanji_a, kanji_b) else "kana_only"
    kana_near = within_one_edit(kana_a, kana_b) or bool(strict_a and strict_b and within_one_edit(strict_a, strict_b))
    if kanji_eq:
        return "kanji_kana_close" if kana_near else "kanji_only"
    if kana_near and _kanji_close(kanji_a, kanji_b):
        return "close"
    return "none"


def compare_birth(a: tuple[int, int, int], b: tuple[int, int, int]) -> str:
    """exact; near: one of year, month, day differs, or month and day swapped; none."""
    if a == b:
        return "exact"
    same = (a[0] == b[0]) + (a[1] == b[1]) + (a[2] == b[2])
    if same == 2 or (a[0] == b[0] and a[1] == b[2] and a[2] == b[1]):
        return "near"
    return "none"


@dataclass
class TermFrequencies:
    """How often each value occurs in the register, for term-frequency adjusted u (頻度補正)."""

    # Plain dicts, not Counters: a million increments at start-up, and Counter's
    # missing-key path is Python code.
    total: int = 0
    surname: dict[str, int] = field(default_factory=dict)
    given: dict[str, int] = field(default_factory=dict)
    birth: dict[int, int] = field(default_factory=dict)
    address: dict[tuple[str, str, tuple[int, ...]], int] = field(default_factory=dict)

    def add(self, surname: str, given: str, birth: int, address: tuple[str, str, tuple[int, ...]]) -> None:
        self.total += 1
        self.surname[surname] = self.surname.get(surname, 0) + 1
        self.given[given] = self.given.get(given, 0) + 1
        self.birth[birth] = self.birth.get(birth, 0) + 1
        self.address[address] = self.address.get(address, 0) + 1

    def share(self, counter: Mapping[_K, int], value: _K) -> float:
        """The value's share of the register; never below one person in it."""
        total = max(self.total, 1)
        return max(counter.get(value, 0), 1) / total


@dataclass(frozen=True)
class Model:
    """m and u per level, the weights log2(m/u), and the prior for a register of ``size``."""

    m: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_M)
    u: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_U)

    def __post_init__(self) -> None:
        for name in FIELDS:
            if set(self.m[name]) != set(LEVELS[name]) or set(self.u[name]) != set(LEVELS[name]):
                raise ValueError(f"model for {name} must give every level: {LEVELS[name]}")

    def weight(self, name: str, level: str) -> float:
        return _LOG2(self.m[name][level] / self.u[name][level])

    def weights(self) -> dict[str, dict[str, float]]:
        return {name: {level: self.weight(name, level) for level in LEVELS[name]} for name in FIELDS}

    def tf_weight(self, name: str, share: float) -> float:
        """Weight of an exact agreement on a value held by ``share`` of the register."""
        return _LOG2(self.m[name]["exact" if name != ADDRESS else "full"] / share)

    @staticmethod
    def prior(size: int) -> float:
        """log2 of the prior odds that a given resident is the member: one in the register."""
        return -_LOG2(max(size, 2) - 1)


def estimate_em(
    patterns: Iterable[tuple[str, ...]],
    *,
    start: Model | None = None,
    learn_u: bool = False,
    iterations: int = 30,
    match_share: float = 0.5,
) -> tuple[Model, float]:
    """Estimate m (and u when ``learn_u``) from unlabelled candidate pairs by EM.

    ``patterns`` are the pairs' levels in :data:`FIELDS` order. Returns the model
    and the estimated share of pairs that are matches. Keeping u fixed (estimated
    from random pairs, where almost nobody matches) and learning only m is what
    makes EM stable on blocked pairs, whose match share is high.
    """
    counts = Counter(patterns)
    if not counts:
        raise ValueError("EM needs at least one pair")
    model = start or Model()
    m = {f: dict(model.m[f]) for f in FIELDS}
    u = {f: dict(model.u[f]) for f in FIELDS}
    share = match_share
    floor = 1e-6
    for _ in range(iterations):
        m_acc = {f: dict.fromkeys(LEVELS[f], floor) for f in FIELDS}
        u_acc = {f: dict.fromkeys(LEVELS[f], floor) for f in FIELDS}
        total_g = 0.0
        total = 0
        for pattern, count in counts.items():
            pm, pu = share, 1.0 - share
            for f, level in zip(FIELDS, pattern, strict=True):
                pm *= m[f][level]
                pu *= u[f][level]
            g = pm / (pm + pu) if pm + pu > 0 else 0.0
            total_g += g * count
            total += count
            for f, level in zip(FIELDS, pattern, strict=True):
                m_acc[f][level] += g * count
                u_acc[f][level] += (1.0 - g) * count
        share = min(max(total_g / total, 1e-9), 1 - 1e-9)
        for f in FIELDS:
            m_sum = sum(m_acc[f].values())
            m[f] = {level: value / m_sum for level, value in m_acc[f].items()}
            if learn_u:
                u_sum = sum(u_acc[f].values())
                u[f] = {level: value / u_sum for level, value in u_acc[f].items()}
    return Model(m, u), share
