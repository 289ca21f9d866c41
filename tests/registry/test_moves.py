"""Move-ins in batches: every mover checked as at the counter, and a refused batch writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from kojin.app import Kojin
from kojin.core.errors import Conflict, NotFound
from kojin.numbering.domain import make_juminhyo_code
from kojin.registry.domain import Address, EventKind, PersonDetails, Sex, Status
from kojin.registry.service import MovingHousehold, Registration
from tests.registry.test_service import _everything

TODAY = date(2026, 11, 24)
HONGO = Address("1130033", "", "", "", "4-15-14")


def _family_moved_out(kojin: Kojin) -> tuple[Registration, Registration]:
    mother = kojin.register.register(
        PersonDetails("田中　恵子", "タナカ　ケイコ", Sex.FEMALE, date(1979, 5, 5), HONGO),
        municipality_code="13105",
        today=TODAY,
    )
    son = kojin.register.register(
        PersonDetails("田中　悠", "タナカ　ユウ", Sex.MALE, date(2011, 10, 2), HONGO),
        municipality_code="13105",
        household_id=mother.resident.household_id,
        relationship="子",
        today=TODAY,
    )
    kojin.register.move_out(mother.resident.resident_id, destination="東京都新宿区", whole_household=True, today=TODAY)
    return mother, son


def _arriving(reg: Registration, relationship: str, block: str = "2-2-2") -> tuple[PersonDetails, str, str]:
    """The person as they arrive at 新宿区 with their own code."""
    r = reg.resident
    details = PersonDetails(r.name, r.kana, r.sex, r.birth_date, Address("1600022", "", "", "", block))
    return (details, relationship, r.juminhyo_code)


def test_a_household_moves_in_keeping_codes_and_numbers(kojin: Kojin) -> None:
    mother, son = _family_moved_out(kojin)
    ids = kojin.register.move_in_households(
        [MovingHousehold([_arriving(mother, "世帯主"), _arriving(son, "子")])], municipality_code="13104", today=TODAY
    )
    arrived = [kojin.register.get(i) for i in ids]
    assert [a.juminhyo_code for a in arrived] == [mother.resident.juminhyo_code, son.resident.juminhyo_code]
    assert all(a.status is Status.RESIDENT and a.municipality_code == "13104" for a in arrived)
    assert arrived[0].household_id == arrived[1].household_id and arrived[1].relationship == "子"
    assert kojin.numbering.number_for(arrived[1].juminhyo_code) == son.number_notice
    [entry] = kojin.register.history_of(ids[0])
    assert entry.kind is EventKind.MOVE_IN and entry.details == {"address": "東京都新宿区新宿2-2-2"}


def test_a_batch_with_another_persons_code_writes_nothing(kojin: Kojin) -> None:
    mother, son = _family_moved_out(kojin)
    before = _everything(kojin)
    # The son's items under his mother's code (and hers under his): swapped on the form.
    swapped = [(_arriving(son, "世帯主")[0], "世帯主", mother.resident.juminhyo_code)]
    with pytest.raises(Conflict) as err:
        kojin.register.move_in_households(
            [MovingHousehold([_arriving(mother, "世帯主", "3-3-3")]), MovingHousehold(swapped)],
            municipality_code="13104",
            today=TODAY,
        )
    assert err.value.code == "number.duplicate_request"
    with pytest.raises(Conflict) as err:
        kojin.register.move_in_households(
            [MovingHousehold([_arriving(son, "世帯主")]), MovingHousehold(swapped)],
            municipality_code="13104",
            today=TODAY,
        )
    assert err.value.code == "juminhyo_code.person_mismatch"
    assert _everything(kojin) == before
    unknown = [(_arriving(son, "世帯主")[0], "世帯主", make_juminhyo_code("2222222222"))]
    with pytest.raises(NotFound) as nf:
        kojin.register.move_in_households([MovingHousehold(unknown)], municipality_code="13104", today=TODAY)
    assert nf.value.code == "juminhyo_code.unknown"
    assert _everything(kojin) == before


def test_a_resident_elsewhere_cannot_move_in_again(kojin: Kojin) -> None:
    here = kojin.register.register(
        PersonDetails("小林　誠", "コバヤシ　マコト", Sex.MALE, date(1970, 1, 2), HONGO),
        municipality_code="13105",
        today=TODAY,
    )
    with pytest.raises(Conflict) as err:
        kojin.register.move_in_households(
            [MovingHousehold([_arriving(here, "世帯主")])], municipality_code="13104", today=TODAY
        )
    assert err.value.code == "juminhyo_code.active_elsewhere"


@pytest.mark.sqlite_only
def test_the_last_record_is_found_through_the_departed_index(kojin: Kojin) -> None:
    with kojin.register.engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM residents WHERE juminhyo_code IN "
                    "(SELECT value FROM json_each(:codes)) AND status != 'resident'"
                ),
                {"codes": '["12345678901"]'},
            )
        )
    assert "ix_residents_departed_code" in plan
