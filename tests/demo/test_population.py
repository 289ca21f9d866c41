"""The synthetic municipality population (架空住民): realistic, valid and reproducible."""

from __future__ import annotations

import collections
import re
from collections.abc import Iterator
from datetime import date
from importlib import resources

import pytest

from kojin.core.errors import NotFound
from kojin.core.japan import age_on, validate_kana, validate_name
from kojin.demo.population import generate_households
from kojin.registry.domain import (
    RELATIONSHIPS,
    RESIDENCE_STATUSES,
    PersonDetails,
    Sex,
    validate_birth_date,
    validate_foreign_details,
)
from kojin.registry.postal import areas_in, complete_address
from kojin.registry.service import HouseholdDraft

TODAY = date(2025, 10, 1)
BUNKYO = "13105"  # 東京都文京区: every town has 丁目
SHINANO = "20583"  # 長野県上水内郡信濃町: lots (番地), no 丁目
SEP = "\u3000"
IVS = "\U000e0100"


def population(code: str, residents: int, seed: int) -> list[HouseholdDraft]:
    return list(generate_households(code, residents, seed=seed, today=TODAY))


def people(households: list[HouseholdDraft]) -> Iterator[tuple[PersonDetails, str]]:
    for household in households:
        yield from household.members


@pytest.fixture(scope="module")
def town20k() -> list[HouseholdDraft]:
    return population(BUNKYO, 20_000, seed=20)


@pytest.fixture(scope="module")
def town50k() -> list[HouseholdDraft]:
    return population(BUNKYO, 50_000, seed=50)


@pytest.fixture(scope="module")
def village() -> list[HouseholdDraft]:
    return population(SHINANO, 3_000, seed=3)


def test_same_seed_gives_the_same_population() -> None:
    assert population(BUNKYO, 3_000, seed=7) == population(BUNKYO, 3_000, seed=7)


def test_different_seeds_give_different_populations() -> None:
    assert population(BUNKYO, 3_000, seed=7) != population(BUNKYO, 3_000, seed=8)


@pytest.mark.parametrize("residents", [0, 1, 2, 7, 1_000, 12_345])
def test_exactly_the_number_of_residents_asked_for(residents: int) -> None:
    households = population(BUNKYO, residents, seed=residents)
    assert sum(len(h.members) for h in households) == residents
    assert all(h.members for h in households)


def test_households_are_generated_lazily() -> None:
    households = generate_households(BUNKYO, 10**9, seed=1, today=TODAY)
    assert next(households).members


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        population(BUNKYO, -1, seed=1)
    with pytest.raises(NotFound):
        population("99999", 10, seed=1)


@pytest.mark.parametrize("fixture", ["town20k", "village"])
def test_everyone_passes_the_registers_own_checks(
    fixture: str,
    request: pytest.FixtureRequest,
) -> None:
    households: list[HouseholdDraft] = request.getfixturevalue(fixture)
    for person, relationship in people(households):
        assert relationship in RELATIONSHIPS
        assert isinstance(person.sex, Sex)
        validate_name(person.name)
        validate_kana(person.kana)
        validate_birth_date(person.birth_date, TODAY)
        validate_foreign_details(person)
        assert person.birth_date <= TODAY
    for household in households:
        address = household.members[0][0].address
        assert all(p.address == address for p, _ in household.members)
        checked = complete_address(
            address.postal_code,
            prefecture=address.prefecture,
            city=address.city,
            town=address.town,
        )
        assert (checked.postal_code, checked.town) == (address.postal_code, address.town)


def test_addresses_are_real_areas_with_plausible_blocks(
    town20k: list[HouseholdDraft],
    village: list[HouseholdDraft],
) -> None:
    for code, households, block in (
        (BUNKYO, town20k, re.compile(r"[1-9]\d*丁目[1-9]\d*番[1-9]\d*号")),
        (SHINANO, village, re.compile(r"[1-9]\d*番地(?:[1-9]\d*)?")),
    ):
        areas = {(a.postal_code, a.prefecture, a.city, a.town) for a in areas_in(code)}
        buildings = 0
        for household in households:
            a = household.members[0][0].address
            assert (a.postal_code, a.prefecture, a.city, a.town) in areas
            assert block.fullmatch(a.block), a.block
            if a.building:
                buildings += 1
                assert re.fullmatch(r"\S+ [1-9]\d*0[1-9]号室", a.building), a.building
        assert 0.2 < buildings / len(households) < 0.8


def test_names_are_written_as_on_the_register(town20k: list[HouseholdDraft]) -> None:
    latin = re.compile(r"[A-Z][A-Z-]*(?: [A-Z][A-Z-]*)+")
    for person, _ in people(town20k):
        if person.nationality == "JP":
            assert person.name.count(SEP) == 1 and person.kana.count(SEP) == 1
        else:
            assert latin.fullmatch(person.name), person.name
            assert SEP in person.kana


def test_household_members_share_the_surname(town20k: list[HouseholdDraft]) -> None:
    for household in town20k:
        head, _ = household.members[0]
        if head.nationality != "JP":
            continue
        surname = head.name.split(SEP)[0]
        for person, relationship in household.members:
            if person.nationality == "JP" and relationship != "同居人":
                assert person.name.split(SEP)[0] == surname


def test_foreign_residents_are_about_two_and_a_half_percent(
    town20k: list[HouseholdDraft],
) -> None:
    residents = list(people(town20k))
    foreign = [p for p, _ in residents if p.nationality != "JP"]
    assert 0.015 <= len(foreign) / len(residents) <= 0.035
    assert len({p.nationality for p in foreign}) >= 6
    for person in foreign:
        assert person.residence_status in RESIDENCE_STATUSES
        if person.residence_status in ("永住者", "特別永住者"):
            assert person.period_of_stay_until is None
        else:
            assert person.period_of_stay_until is not None
            assert 365 <= (person.period_of_stay_until - TODAY).days <= 5 * 366


def test_household_types_are_japanese(town20k: list[HouseholdDraft]) -> None:
    sizes = collections.Counter(min(len(h.members), 5) for h in town20k)
    single = sizes[1] / len(town20k)
    assert 0.33 <= single <= 0.44  # 38 % in the 2020 census
    assert 2.0 <= sum(len(h.members) for h in town20k) / len(town20k) <= 2.5
    relationships = collections.Counter(r for _, r in people(town20k))
    assert relationships["世帯主"] == len(town20k)
    for relationship in ("妻", "夫", "子", "父", "母", "孫"):
        assert relationships[relationship] > 0, relationship


def test_children_are_younger_than_the_head_and_their_mother_was_20_to_45(
    town50k: list[HouseholdDraft],
) -> None:
    for household in town50k:
        head, _ = household.members[0]
        assert all(r == "世帯主" for _, r in household.members[:1])
        assert all(r != "世帯主" for _, r in household.members[1:])
        mothers = [p for p, r in household.members if r == "妻"]
        if head.sex is Sex.FEMALE and not any(r == "母" for _, r in household.members):
            mothers.append(head)
        for person, relationship in household.members:
            if relationship in ("子", "孫"):
                assert person.birth_date > head.birth_date
            if relationship == "子" and len(mothers) == 1:
                assert 20 <= age_on(mothers[0].birth_date, person.birth_date) <= 45
            if relationship in ("父", "母"):
                assert 20 <= age_on(person.birth_date, head.birth_date) <= 45


def test_twins_are_born_at_a_realistic_rate(town50k: list[HouseholdDraft]) -> None:
    births = twins = 0
    for household in town50k:
        children = [p for p, r in household.members if r in ("子", "孫")]
        days = collections.Counter(p.birth_date for p in children)
        births += len(days)
        for day, count in days.items():
            if count > 1:
                twins += 1
                names = [p.name for p in children if p.birth_date == day]
                assert len(set(names)) == len(names)
    assert twins > 0
    assert 0.004 <= twins / births <= 0.02


def test_surname_frequencies_are_plausible(town50k: list[HouseholdDraft]) -> None:
    japanese = [p for p, _ in people(town50k) if p.nationality == "JP"]
    surnames = collections.Counter(p.name.split(SEP)[0] for p in japanese)
    assert 0.010 <= surnames["佐藤"] / len(japanese) <= 0.022
    top = {name for name, _ in surnames.most_common(10)}
    assert {"佐藤", "鈴木", "高橋", "田中"} <= top
    assert len(surnames) >= 300


def test_given_names_fit_the_generation(town50k: list[HouseholdDraft]) -> None:
    for sex, file in ((Sex.MALE, "given_names_male.tsv"), (Sex.FEMALE, "given_names_female.tsv")):
        text = resources.files("kojin.demo").joinpath("data", file).read_text("utf-8")
        rows = [line.split("\t") for line in text.splitlines()[2:]]
        years: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
        for kanji, _kana, _weight, born_from, born_to in rows:
            years[kanji].append((int(born_from), int(born_to)))
        first, last = min(int(r[3]) for r in rows), max(int(r[4]) for r in rows)
        for person, _ in people(town50k):
            if person.nationality == "JP" and person.sex is sex:
                # Years before or after the tables use their first or last year's names.
                year = min(max(person.birth_date.year, first), last)
                given = person.name.split(SEP)[1]
                assert any(lo <= year <= hi for lo, hi in years[given]), (given, year)


def test_ages_follow_the_census_pyramid(town50k: list[HouseholdDraft]) -> None:
    residents = [p for p, _ in people(town50k)]
    ages = [age_on(p.birth_date, TODAY) for p in residents]
    assert 0.25 <= sum(a >= 65 for a in ages) / len(ages) <= 0.33  # 28.6 % in 2020
    assert 0.10 <= sum(a < 15 for a in ages) / len(ages) <= 0.14  # 11.9 %
    assert max(ages) <= 105
    text = resources.files("kojin.demo").joinpath("data", "age_pyramid.tsv").read_text("utf-8")
    bands = [line.split("\t") for line in text.splitlines()[2:]]
    total = sum(int(b[2]) + int(b[3]) for b in bands)
    generated = collections.Counter(min(a // 5, len(bands) - 1) for a in ages)
    distance = sum(abs(generated[i] / len(ages) - (int(b[2]) + int(b[3])) / total) for i, b in enumerate(bands)) / 2
    assert distance < 0.04
    women = sum(p.sex is Sex.FEMALE for p in residents) / len(residents)
    assert 0.49 <= women <= 0.54


def test_variant_kanji_and_ivs_sequences_appear() -> None:
    names = {p.name for p, _ in people(population(BUNKYO, 200_000, seed=200))}
    for variant in ("髙橋", "渡邊", "渡邉", "山﨑", "齋藤", "齊藤", "濵田", "\U00020bb7田"):
        assert any(n.startswith(variant + SEP) for n in names), variant
    ivs = [n for n in names if IVS in n]
    assert ivs
    assert all(n.startswith("葛" + IVS) for n in ivs)  # stored code point for code point
