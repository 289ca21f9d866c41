"""A realistic, reproducible synthetic population for one municipality (架空住民).

Used to seed the register, to benchmark bulk enrolment and to exercise name
matching: households follow the 2020 census mix of household types, ages the
census pyramid, names published frequency tables (with variant kanji and an
IVS sequence kept as rare spellings), about 2.5 % of residents are foreign
nationals, and every address is a real postal area from Japan Post's data.

Everything is drawn from one ``random.Random(seed)``: the same seed, municipality,
size and date always give the same households, and the output is a generator so
memory does not grow with the number of residents.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import TypeVar

from kojin.core.japan import age_on
from kojin.demo.population_tables import FAMILY_CHANCE, HOUSEHOLD_KINDS, Country, Name, Tables, Weighted, areas, tables
from kojin.registry import postal
from kojin.registry.domain import Address, PersonDetails, Sex
from kojin.registry.service import HouseholdDraft

__all__ = ["FOREIGN_SHARE", "TWIN_RATE", "generate_households"]

T = TypeVar("T")
_Member = tuple[PersonDetails, str]

FOREIGN_SHARE = 0.025
"""Target share of foreign residents (在留外国人), as in Japan in the mid-2020s."""

TWIN_RATE = 0.01
"""Share of deliveries that are twins (双子), about 1 % in Japan."""

_YEAR = 365.2425
_AGE_46 = int(46 * _YEAR) - 2  # days after her birth by which a mother is still 45 at most
_SEP = "\u3000"  # 氏 and 名 are joined by a full-width space, as on the 住民票
_PERMANENT = ("永住者", "特別永住者")


# -- foreign residents -----------------------------------------------------------------------------

# Usual ages (lowest, highest, most common) of a household's first member by residence status.
_STATUS_AGES: dict[str, tuple[int, int, int]] = {
    "技能実習": (19, 40, 24),
    "特定技能": (20, 45, 27),
    "留学": (18, 35, 22),
    "特定活動": (20, 50, 28),
    "技術・人文知識・国際業務": (22, 60, 31),
    "技能": (25, 60, 38),
    "経営・管理": (28, 70, 45),
    "永住者": (25, 85, 47),
    "特別永住者": (20, 95, 62),
    "定住者": (18, 70, 40),
    "日本人の配偶者等": (22, 65, 38),
    "永住者の配偶者等": (20, 65, 38),
}

# The statuses a head's spouse and children then hold, repeated to weight them: most
# spouses and children of permanent residents hold permanent residence themselves.
_DEPENDANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "永住者": (("永住者",) * 4 + ("永住者の配偶者等",), ("永住者",) * 2 + ("永住者の配偶者等",)),
    "特別永住者": (("特別永住者",), ("特別永住者",)),
    "定住者": (("定住者",), ("定住者",)),
    "永住者の配偶者等": (("永住者",), ("永住者の配偶者等",)),
}
_SPONSORED = (("家族滞在",), ("家族滞在",))  # 技術・人文知識・国際業務, 留学, 技能 …

# Share of foreign nationals married to a Japanese who are the wife; lower for Western
# countries, where more of them are husbands of Japanese women.
_FOREIGN_WIFE = {"US": 0.3, "GB": 0.25, "FR": 0.3}

# Chance that a household is foreign; foreign households are smaller than Japanese ones,
# so this is tuned to give FOREIGN_SHARE of residents rather than of households.
_FOREIGN_HOUSEHOLD = 0.0354

# Building names (建物名): a landlord's surname or the town with the usual words.
_BUILDING_PREFIXES = (
    "メゾン",
    "コーポ",
    "パークハイツ",
    "ハイツ",
    "グランドール",
    "サンハイム",
    "ライオンズマンション",
    "プラウド",
    "シティハウス",
    "パレス",
)
_BUILDING_SUFFIXES = (
    "ハイツ",
    "マンション",
    "レジデンス",
    "コート",
    "荘",
    "ハイム",
    "ヒルズ",
    "テラス",
    "パークマンション",
    "ハウス",
)


class _Generator:
    """One run's state: the random source, today's date and the current address."""

    def __init__(self, tables: Tables, areas: Sequence[postal.PostalArea], seed: int, today: date) -> None:
        self.t = tables
        self.male = tables.male
        self.female = tables.female
        self.surnames = tables.surnames
        self.areas = areas
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.today = today
        self.today_ord = today.toordinal()
        self.addr = Address("", "", "", "")
        self.kinds = Weighted((kind, share) for kind, share, _ in HOUSEHOLD_KINDS)
        self.in_flat = {kind: flat for kind, _, flat in HOUSEHOLD_KINDS}
        self.builders: dict[str, Callable[[int, Sex], list[_Member]]] = {
            "single": self._single,
            "couple": self._couple,
            "family": self._family,
            "lone_parent": self._lone_parent,
            "old_parent": self._old_parent,
            "three_gen": self._three_gen,
            "grandparent": self._grandparent,
            "couple_parent": self._couple_parent,
            "siblings": self._siblings,
            "sharers": self._sharers,
        }

    # -- dates --------------------------------------------------------------------------------

    def days(self, years: int) -> int:
        """A random span of days that makes someone exactly ``years`` old.

        The two-day margins keep the exact age right whatever the leap years.
        """
        lo = int(years * _YEAR) + 2 if years else 0
        hi = int((years + 1) * _YEAR) - 2
        return lo + int(self.rnd() * (hi - lo))

    def born_aged(self, age: int) -> int:
        return self.today_ord - self.days(age)

    def age_of(self, birth: int) -> int:
        """Age today, give or take a day around the birthday: enough to choose by."""
        return int((self.today_ord - birth) / _YEAR)

    def stay_until(self, status: str) -> date | None:
        """在留期間の満了日: one to five years ahead, none for permanent residents."""
        if status in _PERMANENT:
            return None
        return date.fromordinal(self.today_ord + 366 + int(self.rnd() * 4 * 365))

    def spouse_gap(self, mean: float = 2.0) -> int:
        """How much older the husband is (夫婦の年齢差)."""
        return min(max(round(self.rng.gauss(mean, 3.0)), -3), 12)

    def child_births(self, mother_birth: int, wanted: int) -> list[int]:
        """Birth days of children, oldest first, the mother aged 20–45 at each birth.

        A twin birth (双子) gives two equal days. Young mothers may not have had all
        the children yet, so fewer than ``wanted`` can come back (or one more, twins).
        """
        # The exact age, not age_of's estimate: a mother must really be 20 at a birth today.
        mother_age = age_on(date.fromordinal(mother_birth), self.today)
        if mother_age < 20 or wanted <= 0:
            return []
        first = self.t.first_birth_age.pick(self.rnd)
        if first > mother_age:
            first = 20 + int(self.rnd() * (mother_age - 19))
        birth = min(mother_birth + self.days(first), self.today_ord)
        latest = min(mother_birth + _AGE_46, self.today_ord)
        rnd = self.rnd
        births: list[int] = []
        while len(births) < wanted and birth <= latest:
            births.append(birth)
            if rnd() < TWIN_RATE:
                births.append(birth)  # twins may make one child more than wanted
            birth += 450 + int(rnd() * 1380)  # siblings about 1¼ to 5 years apart
        return births

    # -- people -----------------------------------------------------------------------------

    def surname(self) -> Name:
        return self.surnames.pick(self.rnd)

    def newborn_sex(self) -> Sex:
        return Sex.MALE if self.rnd() < 0.512 else Sex.FEMALE  # 105 boys to 100 girls

    def japanese(self, surname: Name, sex: Sex, birth: int, avoid: str = "") -> PersonDetails:
        born = date.fromordinal(birth)
        names = self.male if sex is Sex.MALE else self.female
        given = names.pick(born.year, self.rnd)
        name = surname[0] + _SEP + given[0]
        while name == avoid:  # twins are never given the same name
            given = names.pick(born.year, self.rnd)
            name = surname[0] + _SEP + given[0]
        return PersonDetails(name, surname[1] + _SEP + given[1], sex, born, self.addr)

    def children(
        self,
        births: list[int],
        make: Callable[[Sex, int, str], PersonDetails],
    ) -> list[_Member]:
        out: list[_Member] = []
        previous: PersonDetails | None = None
        for birth in births:
            if previous is not None and previous.birth_date.toordinal() == birth:
                # Two in three twin pairs share a sex (all identical, half of fraternal).
                sex = previous.sex if self.rnd() < 2 / 3 else self.newborn_sex()
                child = make(sex, birth, previous.name)
            else:
                child = make(self.newborn_sex(), birth, "")
            out.append((child, "子"))
            previous = child
        return out

    def japanese_children(self, surname: Name, mother_birth: int, wanted: int) -> list[_Member]:
        def make(sex: Sex, birth: int, avoid: str) -> PersonDetails:
            return self.japanese(surname, sex, birth, avoid)

        return self.children(self.child_births(mother_birth, wanted), make)

    def child_count(self) -> int:
        # Children a couple has had (完結出生児数 ≈ 1.9); the older ones may have left.
        r = self.rnd()
        return 1 if r < 0.34 else 2 if r < 0.80 else 3 if r < 0.97 else 4

    # -- Japanese households ------------------------------------------------------------------

    def household(self) -> list[_Member]:
        if self.rnd() < _FOREIGN_HOUSEHOLD:
            return self.foreign()
        kind = self.kinds.pick(self.rnd)
        self.move_in(self.in_flat[kind])
        age, sex = self.t.ages[kind].pick(self.rnd)
        return self.builders[kind](age, sex)

    def _single(self, age: int, sex: Sex) -> list[_Member]:
        return [(self.japanese(self.surname(), sex, self.born_aged(age)), "世帯主")]

    def couple(self, husband_age: int, children: int) -> list[_Member]:
        surname = self.surname()
        wife_age = max(husband_age - self.spouse_gap(), 18)
        husband = self.japanese(surname, Sex.MALE, self.born_aged(husband_age))
        wife_birth = self.born_aged(wife_age)
        wife = self.japanese(surname, Sex.FEMALE, wife_birth)
        # A few couples register the wife as head (世帯主); most register the husband.
        head = [(wife, "世帯主"), (husband, "夫")] if self.rnd() < 0.04 else [(husband, "世帯主"), (wife, "妻")]
        return head + self.japanese_children(surname, wife_birth, children)

    def _couple(self, age: int, sex: Sex) -> list[_Member]:
        return self.couple(age, 0)

    def _family(self, age: int, sex: Sex) -> list[_Member]:
        return self.couple(max(age, 22), self.child_count())

    def _lone_parent(self, age: int, sex: Sex) -> list[_Member]:
        surname = self.surname()
        parent_sex = Sex.FEMALE if self.rnd() < 0.85 else Sex.MALE
        birth = self.born_aged(age)
        parent = self.japanese(surname, parent_sex, birth)
        # A father's children are dated from a notional mother two years younger.
        mother_birth = birth if parent_sex is Sex.FEMALE else birth + 730
        r = self.rnd()
        wanted = 1 if r < 0.55 else 2 if r < 0.9 else 3
        return [(parent, "世帯主"), *self.japanese_children(surname, mother_birth, wanted)]

    def _old_parent(self, age: int, sex: Sex) -> list[_Member]:
        surname = self.surname()
        parent_sex = Sex.FEMALE if self.rnd() < 0.75 else Sex.MALE
        parent_birth = self.born_aged(age)
        mother_birth = parent_birth if parent_sex is Sex.FEMALE else parent_birth + 1095
        child_birth = mother_birth + self.days(22 + int(self.rnd() * 17))
        parent = self.japanese(surname, parent_sex, parent_birth)
        child = self.japanese(surname, self.newborn_sex(), child_birth)
        if self.age_of(child_birth) < 70:  # the working-age child heads the household
            return [(child, "世帯主"), (parent, "母" if parent_sex is Sex.FEMALE else "父")]
        return [(parent, "世帯主"), (child, "子")]

    def head_parents(self, surname: Name, head_birth: int) -> list[_Member]:
        """The head's mother and/or father, living with the head (同居の親)."""
        mother_birth = head_birth - self.days(22 + int(self.rnd() * 15))
        father_birth = mother_birth - self.days(max(self.spouse_gap(), 0))
        out: list[_Member] = []
        together = self.rnd() < 0.45
        if (together or self.rnd() < 0.2) and self.age_of(father_birth) <= 100:
            out.append((self.japanese(surname, Sex.MALE, father_birth), "父"))
        if (together or not out) and self.age_of(mother_birth) <= 104:
            out.append((self.japanese(surname, Sex.FEMALE, mother_birth), "母"))
        return out

    def _three_gen(self, age: int, sex: Sex) -> list[_Member]:
        members = self.couple(age, self.child_count())
        head = members[0][0]
        return members + self.head_parents(self.household_surname(head), head.birth_date.toordinal())

    def _couple_parent(self, age: int, sex: Sex) -> list[_Member]:
        members = self.couple(age, 0)
        head = members[0][0]
        return members + self.head_parents(self.household_surname(head), head.birth_date.toordinal())

    @staticmethod
    def household_surname(person: PersonDetails) -> Name:
        name, _, _ = person.name.partition(_SEP)
        kana, _, _ = person.kana.partition(_SEP)
        return name, kana

    def _grandparent(self, age: int, sex: Sex) -> list[_Member]:
        surname = self.surname()
        head_birth = self.born_aged(age)
        members: list[_Member]
        if self.rnd() < 0.6:
            head = self.japanese(surname, Sex.MALE, head_birth)
            members = [(head, "世帯主")]
            grandmother_birth = head_birth + self.days(max(self.spouse_gap(), 0))
            if self.rnd() < 0.8:
                wife = self.japanese(surname, Sex.FEMALE, grandmother_birth)
                members.append((wife, "妻"))
        else:
            head = self.japanese(surname, Sex.FEMALE, head_birth)
            members = [(head, "世帯主")]
            grandmother_birth = head_birth
        child_birth = grandmother_birth + self.days(22 + int(self.rnd() * 15))
        if child_birth > self.today_ord - int(18 * _YEAR):
            return members  # too young a head for grown children: a couple or a widow(er)
        # The child who stayed is usually a daughter who returned with her children.
        child_sex = Sex.FEMALE if self.rnd() < 0.75 else Sex.MALE
        child = self.japanese(surname, child_sex, child_birth)
        members.append((child, "子"))
        mother_birth = child_birth if child_sex is Sex.FEMALE else child_birth + 730
        grandchildren = self.japanese_children(surname, mother_birth, 1 + int(self.rnd() * 2))
        return members + [(person, "孫") for person, _ in grandchildren]

    def _siblings(self, age: int, sex: Sex) -> list[_Member]:
        surname = self.surname()
        head_sex = self.newborn_sex()
        head_birth = self.born_aged(age)
        other_sex = self.newborn_sex()
        if self.rnd() < 0.7:
            other_birth = head_birth + self.days(1 + int(self.rnd() * 12))
            relationship = "弟" if other_sex is Sex.MALE else "妹"
        else:
            other_birth = head_birth - self.days(1 + int(self.rnd() * 8))
            relationship = "兄" if other_sex is Sex.MALE else "姉"
        other_birth = min(other_birth, self.today_ord)
        return [
            (self.japanese(surname, head_sex, head_birth), "世帯主"),
            (self.japanese(surname, other_sex, other_birth), relationship),
        ]

    def _sharers(self, age: int, sex: Sex) -> list[_Member]:
        other_age = max(age + int(self.rnd() * 11) - 5, 18)
        head = self.japanese(self.surname(), self.newborn_sex(), self.born_aged(age))
        other = self.japanese(self.surname(), self.newborn_sex(), self.born_aged(other_age))
        return [(head, "世帯主"), (other, "同居人")]

    # -- foreign households -------------------------------------------------------------------

    def alien(
        self, country: Country, surname: Name, sex: Sex, birth: int, status: str, until: date | None, avoid: str = ""
    ) -> PersonDetails:
        names = country.male if sex is Sex.MALE else country.female
        for _ in range(8):  # twins get different names, if the short list allows
            given = names.pick(self.rnd)
            name = f"{surname[0]} {given[0]}"
            if name != avoid:
                break
        return PersonDetails(
            name, f"{surname[1]}{_SEP}{given[1]}", sex, date.fromordinal(birth), self.addr, country.code, status, until
        )

    def status_age(self, status: str) -> int:
        lo, hi, mode = _STATUS_AGES[status]
        return min(int(self.rng.triangular(lo, hi + 1, mode)), hi)

    def foreign(self) -> list[_Member]:
        country = self.t.countries.pick(self.rnd)
        status = country.statuses.pick(self.rnd)
        if status == "日本人の配偶者等":
            self.move_in(0.35)
            return self.mixed(country)
        family = self.rnd() < FAMILY_CHANCE[status]
        self.move_in(0.6 if family else 0.9)
        surname = country.surnames.pick(self.rnd)
        age = self.status_age(status)
        until = self.stay_until(status)
        if not family:
            sex = Sex.MALE if self.rnd() < 0.55 else Sex.FEMALE
            person = self.alien(country, surname, sex, self.born_aged(age), status, until)
            return [(person, "世帯主")]
        spouse_statuses, child_statuses = _DEPENDANTS.get(status, _SPONSORED)
        head = self.alien(country, surname, Sex.MALE, self.born_aged(age), status, until)
        spouse_status = spouse_statuses[int(self.rnd() * len(spouse_statuses))]
        wife_surname = country.surnames.pick(self.rnd) if country.wife_keeps_surname else surname
        wife_birth = self.born_aged(max(age - self.spouse_gap(), 18))
        wife = self.alien(
            country,
            wife_surname,
            Sex.FEMALE,
            wife_birth,
            spouse_status,
            until if spouse_status == "家族滞在" else self.stay_until(spouse_status),
        )
        child_status = child_statuses[int(self.rnd() * len(child_statuses))]
        child_until = until if child_status == "家族滞在" else self.stay_until(child_status)

        def make(sex: Sex, birth: int, avoid: str) -> PersonDetails:
            return self.alien(country, surname, sex, birth, child_status, child_until, avoid)

        wanted = self.child_count() if self.rnd() < 0.6 else 0
        children = self.children(self.child_births(wife_birth, wanted), make)
        return [(head, "世帯主"), (wife, "妻"), *children]

    def mixed(self, country: Country) -> list[_Member]:
        """A Japanese head with a foreign spouse (日本人の配偶者等) and Japanese children."""
        foreign_age = self.status_age("日本人の配偶者等")
        status = "日本人の配偶者等"
        surname = self.surname()
        if self.rnd() < _FOREIGN_WIFE.get(country.code, 0.7):
            wife_birth = self.born_aged(foreign_age)
            husband_age = min(foreign_age + self.spouse_gap(5.0), 90)
            head = self.japanese(surname, Sex.MALE, self.born_aged(husband_age))
            spouse = self.alien(
                country, country.surnames.pick(self.rnd), Sex.FEMALE, wife_birth, status, self.stay_until(status)
            )
            members = [(head, "世帯主"), (spouse, "妻")]
        else:
            wife_birth = self.born_aged(max(foreign_age - self.spouse_gap(), 20))
            head = self.japanese(surname, Sex.FEMALE, wife_birth)
            spouse = self.alien(
                country,
                country.surnames.pick(self.rnd),
                Sex.MALE,
                self.born_aged(foreign_age),
                status,
                self.stay_until(status),
            )
            members = [(head, "世帯主"), (spouse, "夫")]
        r = self.rnd()
        return members + self.japanese_children(surname, wife_birth, 0 if r < 0.4 else 1 if r < 0.75 else 2)

    # -- addresses ----------------------------------------------------------------------------

    def move_in(self, in_flat: float) -> None:
        """Draw the address the next household's members all share."""
        area = self.areas[int(self.rnd() * len(self.areas))]
        rnd = self.rnd
        if area.has_chome:
            block = f"{1 + int(rnd() * 4)}丁目{1 + int(rnd() * 30)}番{1 + int(rnd() * 25)}号"
        else:
            # Low lot numbers are more common than high ones.
            block = f"{1 + int(rnd() ** 2 * 2500)}番地"
            if rnd() < 0.6:
                block += str(1 + int(rnd() * 20))
        building = ""
        if rnd() < in_flat:
            form = rnd()
            if form < 0.4:
                name = _BUILDING_PREFIXES[int(rnd() * len(_BUILDING_PREFIXES))] + area.town
            elif form < 0.7:
                name = area.town + _BUILDING_SUFFIXES[int(rnd() * len(_BUILDING_SUFFIXES))]
            else:
                name = "コーポ" + self.surname()[0]  # named after the landlord
            if rnd() < 0.15:
                name = f"第{2 + int(rnd() * 3)}{name}"
            floor = 1 + int(rnd() ** 2.5 * 12)  # mostly low-rise; a few tower flats
            building = f"{name} {floor}{1 + int(rnd() * 8):02d}号室"
        self.addr = Address(area.postal_code, area.prefecture, area.city, area.town, block, building)


def generate_households(
    municipality_code: str,
    residents: int,
    *,
    seed: int,
    today: date,
) -> Iterator[HouseholdDraft]:
    """Yield synthetic households (世帯) of a municipality until ``residents`` people exist.

    The last household is cut short if needed, so exactly ``residents`` people are
    generated. The same arguments always give the same households.
    """
    if residents < 0:
        raise ValueError("residents must not be negative")
    loaded = tables()
    generator = _Generator(loaded, areas(municipality_code), seed, today)
    left = residents
    while left > 0:
        members = generator.household()[:left]
        left -= len(members)
        yield HouseholdDraft(members)
