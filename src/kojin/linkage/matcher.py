"""Finding the one right person for an agency's member (加入者と住民の突合): the rule.

The matcher holds an in-memory index of the register's comparison keys, built
by the matching service from what :class:`~kojin.registry.service.RegisterService`
publishes. For each member it gathers candidates from four blocks — reading and
birth date, birth date and postal code, name and birth year, name and postal
code (the last finds the family member whose name was keyed on this line) —
scores each with the Fellegi–Sunter model and applies the rule:

**link only when exactly one candidate clears** :data:`LINK_AT` **bits, no other
comes within** :data:`MARGIN` **bits, and that candidate agrees on the birth date,
the sex, both name parts, and the address or postal code — on the register's
current name and address.** A name and birth date alone never link: the
real system's 7,372 wrong links came from kana + birth date + sex, first hit.

Everything else is a review case with reasons (:class:`Reason`): ``ambiguous``,
``low_score``, ``conflicting_field`` (which), ``moved`` (an old address from
the register's history agrees), ``name_changed`` (an old name agrees),
``no_match``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from kojin.linkage.index import MatchIndex
from kojin.linkage.normalise import (
    MemberAddress,
    kana_parts,
    member_address,
    name_key,
)
from kojin.linkage.records import (
    Candidate,
    Decision,
    KeyRow,
    MatchResult,
    MemberRecord,
    NameForm,
    Reason,
    ReasonItem,
    ResidentEntry,
    entry_of_row,
)
from kojin.linkage.scoring import (
    ADDRESS,
    BIRTH,
    GIVEN,
    SEX,
    SURNAME,
    Model,
    compare_birth,
    compare_name_part,
)

__all__ = [
    "LINK_AT",
    "MARGIN",
    "NO_MATCH_BELOW",
    "Candidate",
    "Decision",
    "KeyRow",
    "MatchIndex",
    "MatchResult",
    "Matcher",
    "MemberRecord",
    "NameForm",
    "Reason",
    "ReasonItem",
    "ResidentEntry",
    "entry_of_row",
]

_T = TypeVar("_T")

LINK_AT = 16.0
"""Posterior bits the one candidate must reach to be linked (odds 65,536 to 1)."""

MARGIN = 10.0
"""Bits by which the best candidate must lead the next one; closer is ``ambiguous``."""

NO_MATCH_BELOW = -8.0
"""Candidates below this are not shown; with none left the answer is ``no_match``."""

# Name levels that still say "this spelling is this person's": exact, or a
# variant / same-reading kanji, or a kana typo with the kanji agreeing.
LINKABLE_NAME = frozenset({"exact", "kana_kanji_close", "kanji_kana_close"})
# Address levels where the address or the postal code agrees with the register.
ADDRESS_AGREES = frozenset({"full", "full_no_postal", "partial", "postal_only"})


class _Member:
    """A member's keys, computed once."""

    __slots__ = (
        "address",
        "birth",
        "birth_ordinal",
        "full_kana",
        "full_name",
        "given",
        "given_kana",
        "given_strict",
        "keys",
        "postal",
        "sex",
        "surname",
        "surname_kana",
        "surname_strict",
    )

    def __init__(self, member: MemberRecord) -> None:
        key = name_key(member.name)
        self.surname = key.surname
        self.given = key.given
        self.surname_kana, self.given_kana, self.surname_strict, self.given_strict = kana_parts(member.kana)
        self.full_name = key.surname + key.given
        self.full_kana = self.surname_kana + self.given_kana
        b = member.birth_date
        self.birth = (b.year, b.month, b.day)
        self.birth_ordinal = b.toordinal()
        self.sex = member.sex.value
        self.postal = member.postal_code
        self.address: MemberAddress = member_address(member.postal_code, member.address)
        self.keys = (
            hash(("k", self.full_kana, self.birth_ordinal)),
            hash(("p", self.birth_ordinal, self.postal)),
            hash(("n", self.full_name, b.year)),
            hash(("f", self.full_name, self.postal)),
        )


def _align(ms: str, mg: str, rs: str, rg: str) -> tuple[str, str, str, str]:
    """Split whichever side came without a space the way the other side is split."""
    if ms or not rs:
        if rs or not ms:
            return ms, mg, rs, rg
        full = rg  # the register's name is unsplit: split it like the member's
        return ms, mg, full[: len(ms)], full[len(ms) :]
    full = mg
    return full[: len(rs)], full[len(rs) :], rs, rg


class Matcher:
    """Scores candidates and applies the link rule; pure, so it can run in worker processes."""

    def __init__(self, index: MatchIndex, model: Model | None = None) -> None:
        self.index = index
        self.model = model or Model()
        w = self.model.weights()
        self._w_surname = w[SURNAME]
        self._w_given = w[GIVEN]
        self._w_birth = w[BIRTH]
        self._w_sex = w[SEX]
        self._w_address = w[ADDRESS]
        self._prior = Model.prior(len(index))
        self._surname_tf: dict[str, float] = {}
        self._given_tf: dict[str, float] = {}
        self._birth_tf: dict[int, float] = {}
        self._address_tf: dict[tuple[str, str, tuple[int, ...]], float] = {}

    # -- scoring ---------------------------------------------------------------------------------
    # Exact agreements are weighted by how common the value is (term frequency);
    # each value's weight is worked out once and kept.
    def _tf(self, cache: dict[_T, float], counter: Mapping[_T, int], name: str, value: _T) -> float:
        weight = cache.get(value)
        if weight is None:
            weight = cache[value] = self.model.tf_weight(name, self.index.tf.share(counter, value))
        return weight

    def _name(
        self, m: _Member, rs: str, rg: str, rks: str, rkg: str, rxs: str, rxg: str
    ) -> tuple[float, str, str, bool, bool]:
        """Weight, surname and given-name levels, kanji and kana exact, for one of the resident's names."""
        ms, mg, ks, kg = m.surname, m.given, m.surname_kana, m.given_kana
        xs, xg = m.surname_strict, m.given_strict
        if not (ms and rs and ks and rks):  # someone wrote the name without a space
            ms, mg, rs, rg = _align(ms, mg, rs, rg)
            ks, kg, rks, rkg = _align(ks, kg, rks, rkg)
            xs, xg, rxs, rxg = _align(xs, xg, rxs, rxg)
        s_level = compare_name_part(ms, ks, rs, rks, xs, rxs)
        g_level = compare_name_part(mg, kg, rg, rkg, xg, rxg)
        weight = self._part_weight(
            s_level, self._w_surname, self._surname_tf, self.index.tf.surname, SURNAME, rks
        ) + self._part_weight(g_level, self._w_given, self._given_tf, self.index.tf.given, GIVEN, rkg)
        return weight, s_level, g_level, ms == rs and mg == rg, ks == rks and kg == rkg

    def _part_weight(
        self,
        level: str,
        weights: Mapping[str, float],
        cache: dict[str, float],
        counter: Mapping[str, int],
        name: str,
        kana: str,
    ) -> float:
        """One name part's weight: a partial agreement is never worth more than full agreement on
        the same name, so the level's weight is capped at the name's own (term-frequency) weight."""
        if level == "none":
            return weights[level]
        exact = self._tf(cache, counter, name, kana)
        return exact if level == "exact" else min(weights[level], exact)

    def _names(self, m: _Member, entry: ResidentEntry) -> tuple[float, str, str, bool, bool, bool]:
        best: tuple[float, str, str, bool, bool, bool] | None = None
        for i, form in enumerate(entry.names):
            weight, s_level, g_level, kanji_exact, kana_exact = self._name(
                m,
                form.surname,
                form.given,
                form.surname_kana,
                form.given_kana,
                form.surname_strict,
                form.given_strict,
            )
            if best is None or weight > best[0]:
                best = (weight, s_level, g_level, i > 0, kanji_exact, kana_exact)
        assert best is not None
        return best

    def _place(
        self, m: _Member, postal_code: str, prefecture: str, city: str, town: str, numbers: tuple[int, ...]
    ) -> tuple[float, str]:
        """Weight and level for one of the resident's addresses."""
        town_ok, relation = m.address.against_parts(prefecture, city, town, numbers)
        postal_ok = m.postal == postal_code
        if town_ok and relation == "full":
            level = "full" if postal_ok else "full_no_postal"
        elif postal_ok and town_ok and relation == "partial":
            level = "partial"
        elif postal_ok:
            level = "postal_only"
        elif town_ok:
            level = "town_only"
        else:
            level = "none"
        if level == "full":
            place = (postal_code, town, numbers)
            return self._tf(self._address_tf, self.index.tf.address, ADDRESS, place), level
        return self._w_address[level], level

    def _address(self, m: _Member, entry: ResidentEntry) -> tuple[float, str, bool]:
        best: tuple[float, str, bool] | None = None
        for i, key in enumerate(entry.addresses):
            weight, level = self._place(m, key.postal_code, key.prefecture, key.city, key.town, key.numbers)
            if best is None or weight > best[0]:
                best = (weight, level, i > 0)
        assert best is not None
        return best

    def _birth(self, m: _Member, birth: tuple[int, int, int]) -> tuple[float, str]:
        b_level = compare_birth(m.birth, birth)
        if b_level == "exact":
            return self._tf(self._birth_tf, self.index.tf.birth, BIRTH, m.birth_ordinal), b_level
        return self._w_birth[b_level], b_level

    def score_row(self, m: _Member, row: KeyRow) -> Candidate:
        """:meth:`score` for a resident with one name and one address, straight from the stored row
        (most residents: no entry object is built for them)."""
        (rid, _code, status, sex, birth, rs, rg, rks, rkg, postal_code, pref, city, town, numbers, rxs, rxg) = row
        name_w, s_level, g_level, kanji_exact, kana_exact = self._name(m, rs, rg, rks, rkg, rxs, rxg)
        birth_w, b_level = self._birth(m, birth)
        x_level = "agree" if m.sex == sex else "disagree"
        address_w, a_level = self._place(m, postal_code, pref, city, town, numbers)
        total = self._prior + name_w + birth_w + self._w_sex[x_level] + address_w
        return Candidate(
            rid, total, (s_level, g_level, b_level, x_level, a_level), False, False, kanji_exact, kana_exact, status
        )

    def score(self, m: _Member, entry: ResidentEntry) -> Candidate:
        name_w, s_level, g_level, old_name, kanji_exact, kana_exact = self._names(m, entry)
        birth_w, b_level = self._birth(m, entry.birth)
        x_level = "agree" if m.sex == entry.sex else "disagree"
        address_w, a_level, old_address = self._address(m, entry)
        total = self._prior + name_w + birth_w + self._w_sex[x_level] + address_w
        return Candidate(
            entry.resident_id,
            total,
            (s_level, g_level, b_level, x_level, a_level),
            old_name,
            old_address,
            kanji_exact,
            kana_exact,
            entry.status,
        )

    def score_record(self, member: MemberRecord, entry: ResidentEntry) -> Candidate:
        """Score one member against one resident, whether or not blocking would pair them."""
        return self.score(_Member(member), entry)

    # -- the rule --------------------------------------------------------------------------------
    def match(self, member: MemberRecord) -> MatchResult:
        m = _Member(member)
        items = self.index.items
        scored: list[Candidate] = []
        for p in self.index.candidates(m.keys):
            item = items[p]
            scored.append(self.score(m, item) if isinstance(item, ResidentEntry) else self.score_row(m, item[0]))
        scored.sort(key=lambda c: (-c.score, c.resident_id))
        shown = tuple(c for c in scored if c.score >= NO_MATCH_BELOW)
        if not shown:
            return MatchResult(member, Decision.NO_MATCH, None, None, (ReasonItem(Reason.NO_MATCH),), ())
        best = shown[0]
        reasons = self._reasons(best, shown, scored)
        a_level = best.level(ADDRESS)
        if not reasons:
            return MatchResult(member, Decision.LINKED, best.resident_id, best.score, (), shown, a_level)
        return MatchResult(member, Decision.REVIEW, None, best.score, tuple(reasons), shown, a_level)

    @staticmethod
    def _reasons(best: Candidate, shown: Sequence[Candidate], scored: Sequence[Candidate]) -> list[ReasonItem]:
        reasons: list[ReasonItem] = []
        if best.via_old_name:
            reasons.append(ReasonItem(Reason.NAME_CHANGED))
        if best.via_old_address:
            reasons.append(ReasonItem(Reason.MOVED))
        if len(shown) > 1 and (best.score - shown[1].score < MARGIN or shown[1].score >= LINK_AT):
            # Exactly one candidate may clear the bar, and by a clear margin.
            reasons.append(ReasonItem(Reason.AMBIGUOUS))
        surname, given, birth, sex, address = best.levels
        if surname not in LINKABLE_NAME:
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, SURNAME))
        if given not in LINKABLE_NAME:
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, GIVEN))
        elif not (best.kanji_exact and best.kana_exact) and any(
            (c.kanji_exact or c.kana_exact) and c.levels[4] in ADDRESS_AGREES for c in scored if c is not best
        ):
            # Someone else at this address has exactly the name or the reading
            # given: the family member's details keyed on this line. (Looked for
            # among every candidate: that person's birth date and sex disagree, so
            # their score is usually far too low to be shown.)
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, "name"))
        if birth != "exact":
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, BIRTH))
        if sex != "agree":
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, SEX))
        if address not in ADDRESS_AGREES:
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, ADDRESS))
        if best.status != "resident":
            reasons.append(ReasonItem(Reason.CONFLICTING_FIELD, "status"))
        if best.score < LINK_AT:
            reasons.append(ReasonItem(Reason.LOW_SCORE))
        return reasons
