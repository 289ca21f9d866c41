"""Building residents' comparison keys and members for matcher tests, without a database."""

from __future__ import annotations

from datetime import date

from kojin.demo.population import generate_households
from kojin.linkage.matcher import MatchIndex, MemberRecord, NameForm, ResidentEntry
from kojin.linkage.normalise import register_address
from kojin.registry.domain import Sex

TODAY = date(2026, 1, 15)
BUNKYO = "13105"


def entry(
    resident_id: int,
    name: str,
    kana: str,
    sex: str,
    born: date,
    postal_code: str,
    town: str,
    block: str,
    *,
    status: str = "resident",
    city: str = "文京区",
    old_names: tuple[tuple[str, str], ...] = (),
    old_addresses: tuple[tuple[str, str, str], ...] = (),
) -> ResidentEntry:
    names = (NameForm.of(name, kana), *(NameForm.of(n, k) for n, k in old_names))
    addresses = (
        register_address(postal_code, "東京都", city, town, block),
        *(register_address(p, "東京都", "文京区", t, b) for p, t, b in old_addresses),
    )
    return ResidentEntry(
        resident_id, f"{resident_id:011d}", status, sex, (born.year, born.month, born.day), names, addresses
    )


def background(count: int = 3000, seed: int = 5, first_id: int = 10_000) -> list[ResidentEntry]:
    """A synthetic population, so term frequencies and the prior are realistic."""
    out: list[ResidentEntry] = []
    rid = first_id
    for household in generate_households(BUNKYO, count, seed=seed, today=TODAY):
        for details, _relationship in household.members:
            a = details.address
            out.append(
                entry(
                    rid,
                    details.name,
                    details.kana,
                    details.sex.value,
                    details.birth_date,
                    a.postal_code,
                    a.town,
                    a.block,
                )
            )
            rid += 1
    return out


def index_with(*entries: ResidentEntry, count: int = 3000) -> MatchIndex:
    return MatchIndex([*background(count), *entries])


def member(
    name: str, kana: str, sex: str, born: date, postal_code: str, address: str, member_id: str = "M1"
) -> MemberRecord:
    return MemberRecord(member_id, name, kana, Sex(sex), born, postal_code, address)
