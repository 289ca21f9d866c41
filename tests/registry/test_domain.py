from __future__ import annotations

from datetime import date

import pytest

from kojin.core.errors import InvalidInput
from kojin.core.japan import age_on, parse_date, validate_kana, validate_name
from kojin.registry.domain import (
    Address,
    PersonDetails,
    Sex,
    parse_sex,
    validate_birth_date,
    validate_foreign_details,
)

ADDRESS = Address("1130033", "東京都", "文京区", "本郷", "4-15-14")


@pytest.mark.parametrize(
    ("kana", "code"),
    [
        ("", "kana.empty"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "kana.halfwidth"),
        ("山田　太郎", "kana.not_katakana"),
        ("やまだ", "kana.not_katakana"),
        ("YAMADA", "kana.not_katakana"),
    ],
)
def test_bad_kana(kana: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_kana(kana)
    assert (err.value.code, err.value.field) == (code, "kana")


def test_good_kana() -> None:
    assert validate_kana("ヤマダ　タロウ") == "ヤマダ　タロウ"
    assert validate_kana("ヴァン　ミン") == "ヴァン　ミン"


def test_names_are_kept_exactly_including_ivs() -> None:
    name = "葛\U000e0100城　𠮷男"
    assert validate_name(name) == name
    with pytest.raises(InvalidInput) as err:
        validate_name("   ")
    assert err.value.code == "name.empty"


def test_impossible_and_future_dates() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_date("2020-02-30", "birth_date")
    assert err.value.code == "birth_date.invalid"
    assert parse_date("2020-02-29", "birth_date") == date(2020, 2, 29)
    with pytest.raises(InvalidInput) as err:
        validate_birth_date(date(2030, 1, 1), date(2026, 1, 1))
    assert err.value.code == "birth_date.future"


def test_sex_codes() -> None:
    assert parse_sex("1") is Sex.MALE
    with pytest.raises(InvalidInput) as err:
        parse_sex("3")
    assert err.value.field == "sex"


def test_foreign_residents_need_status_and_period() -> None:
    base = PersonDetails("NGUYEN VAN AN", "グエン　ヴァン　アン", Sex.MALE, date(1995, 5, 5), ADDRESS, "VN")
    with pytest.raises(InvalidInput) as err:
        validate_foreign_details(base)
    assert err.value.code == "residence_status.invalid"
    with pytest.raises(InvalidInput) as err:
        validate_foreign_details(PersonDetails(**{**base.__dict__, "residence_status": "留学"}))
    assert err.value.code == "period_of_stay.missing"
    validate_foreign_details(PersonDetails(**{**base.__dict__, "residence_status": "永住者"}))


def test_age() -> None:
    assert age_on(date(2000, 2, 29), date(2015, 2, 28)) == 14
    assert age_on(date(2000, 2, 29), date(2015, 3, 1)) == 15
