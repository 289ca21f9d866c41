"""Japanese rules shared by every party: kana, postal codes, 和暦, dates, ages, JST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kojin.core.errors import InvalidInput
from kojin.core.japan import (
    JST,
    age_on,
    era_of,
    format_date,
    has_halfwidth_kana,
    is_any_kana,
    is_fullwidth_katakana,
    normalise_postal_code,
    parse_date,
    parse_yyyymmdd,
    validate_kana,
    wareki,
    yyyymmdd,
)


def test_kana_predicates() -> None:
    assert is_fullwidth_katakana("ヤマダ　タロウ")
    assert not is_fullwidth_katakana("やまだ")
    assert not is_fullwidth_katakana("")
    assert has_halfwidth_kana("ﾔﾏﾀﾞ")
    assert not has_halfwidth_kana("ヤマダ")
    assert is_any_kana("やまだ ﾀﾛｳ")
    assert not is_any_kana("山田")


def test_validate_kana_reasons() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_kana("ﾔﾏﾀﾞ")
    assert caught.value.code == "kana.halfwidth"
    with pytest.raises(InvalidInput) as caught:
        validate_kana("山田")
    assert caught.value.code == "kana.not_katakana"


def test_postal_code_format() -> None:
    assert normalise_postal_code("〒１１３－００３３".replace("－", "-")) == "1130033"
    with pytest.raises(InvalidInput):
        normalise_postal_code("113-003")


@pytest.mark.parametrize(
    ("day", "text", "code"),
    [
        (date(2019, 5, 1), "令和1年5月1日", 5),
        (date(2019, 4, 30), "平成31年4月30日", 4),
        (date(1989, 1, 7), "昭和64年1月7日", 3),
        (date(1972, 2, 8), "昭和47年2月8日", 3),
        (date(1926, 12, 24), "大正15年12月24日", 2),
        (date(1912, 7, 29), "明治45年7月29日", 1),
        (date(1868, 1, 24), "1868年1月24日", None),
    ],
)
def test_wareki(day: date, text: str, code: int | None) -> None:
    assert wareki(day) == text
    era = era_of(day)
    assert (era.code if era else None) == code


def test_format_date() -> None:
    assert format_date(date(1972, 2, 8)) == "昭和47年2月8日（1972年）"
    assert format_date(date(1972, 2, 8), "en") == "1972-02-08"
    assert format_date(date(1800, 1, 1)) == "1800年1月1日"


def test_dates() -> None:
    assert parse_date("1972-02-08", "birth_date") == date(1972, 2, 8)
    assert parse_date("19720208", "birth_date") == date(1972, 2, 8)
    with pytest.raises(InvalidInput) as caught:
        parse_date("2026-02-30", "birth_date")
    assert caught.value.code == "birth_date.invalid"
    assert yyyymmdd(date(1972, 2, 8)) == "19720208"
    assert parse_yyyymmdd("19720208") == date(1972, 2, 8)
    for bad in ("1972-02-08", "19720230", "19720208\n", "１９７２０２０８"):
        with pytest.raises(ValueError):
            parse_yyyymmdd(bad)


def test_age_on() -> None:
    assert age_on(date(2011, 4, 2), date(2026, 4, 1)) == 14
    assert age_on(date(2011, 4, 2), date(2026, 4, 2)) == 15
    assert age_on(date(2008, 2, 29), date(2023, 2, 28)) == 14
    assert age_on(date(2008, 2, 29), date(2023, 3, 1)) == 15


def test_jst_agrees_with_the_tz_database() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    # Japan has kept no daylight saving since 1951: the fixed offset is the zone.
    for moment in (datetime(1952, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, 15, 0, tzinfo=UTC), datetime.now(UTC)):
        assert moment.astimezone(JST).replace(tzinfo=None) == moment.astimezone(tokyo).replace(tzinfo=None)
        assert moment.astimezone(JST).tzname() == moment.astimezone(tokyo).tzname() == "JST"
