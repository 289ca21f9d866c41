from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from kojin.app import Kojin
from kojin.demo.population import generate_households
from kojin.hub.domain import AgencyKind
from kojin.registry.domain import Address, EventKind, PersonDetails, Resident, Sex

BUNKYO = "13105"
TODAY = date(2026, 1, 15)
AGENCY = "kyokai"


@dataclass
class Town:
    """A small ward: a synthetic background and the people the tests are about."""

    yamada: Resident  # 山田太郎 in 本郷
    double: Resident  # another 山田太郎, same birth date, in 白山
    twin_1: Resident
    twin_2: Resident
    mother: Resident  # 髙橋和子
    son: Resident  # 髙橋健一, same household


def _add(
    kojin: Kojin,
    name: str,
    kana: str,
    sex: str,
    born: date,
    postal_code: str,
    block: str,
    household: int | None = None,
    relationship: str = "世帯主",
) -> Resident:
    return kojin.register.register(
        PersonDetails(name, kana, Sex(sex), born, Address(postal_code, "", "", "", block)),
        municipality_code=BUNKYO,
        kind=EventKind.BIRTH,
        household_id=household,
        relationship=relationship,
    ).resident


@pytest.fixture
def agency(kojin: Kojin) -> str:
    kojin.agencies.create(AGENCY, name="全国健康保険協会", kind=AgencyKind.KYOKAI_KENPO)
    return AGENCY


@pytest.fixture
def town(kojin: Kojin) -> Town:
    kojin.register.enroll_households(
        generate_households(BUNKYO, 400, seed=3, today=TODAY), municipality_code=BUNKYO, today=TODAY, validated=True
    )
    born = date(1980, 4, 1)
    yamada = _add(kojin, "山田　太郎", "ヤマダ　タロウ", "1", born, "1130033", "4丁目15番14号")
    double = _add(kojin, "山田　太郎", "ヤマダ　タロウ", "1", born, "1120001", "2丁目3番4号")
    mother = _add(kojin, "髙橋　和子", "タカハシ　カズコ", "2", date(1960, 2, 3), "1120012", "1丁目2番3号")
    son = _add(
        kojin,
        "髙橋　健一",
        "タカハシ　ケンイチ",
        "1",
        date(1990, 7, 8),
        "1120012",
        "1丁目2番3号",
        mother.household_id,
        "子",
    )
    twin_1 = _add(
        kojin, "鈴木　大翔", "スズキ　ヒロト", "1", date(2015, 6, 2), "1130022", "3丁目1番2号", son.household_id, "孫"
    )
    twin_2 = _add(
        kojin, "鈴木　大和", "スズキ　ヤマト", "1", date(2015, 6, 2), "1130022", "3丁目1番2号", son.household_id, "孫"
    )
    return Town(yamada, double, twin_1, twin_2, mother, son)
