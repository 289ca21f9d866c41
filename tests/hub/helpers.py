"""Shared set-up for the hub and agency tests: demo agencies and people with codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import httpx
from fastapi.testclient import TestClient

from kojin.agency.domain import CopyEntry
from kojin.app import Kojin
from kojin.demo.agencies import ensure_demo_agencies
from kojin.numbering.domain import make_juminhyo_code

CHILD_ALLOWANCE = "児童手当の支給に関する事務"
LOCAL_TAX = "地方税関係情報"
RESIDENT = "住民票関係情報"
PENSION = "年金給付関係情報"


@dataclass(frozen=True)
class Person:
    juminhyo_code: str
    number: str
    codes: dict[str, str]  # agency id -> that agency's code


def as_httpx(client: TestClient) -> httpx.Client:
    """``client`` as the ``httpx.Client`` kojin's HTTP transports are typed to take.

    Starlette's TestClient is an ``httpx2.Client``: another class to mypy, but the
    same ``get``/``post``/``close`` the transports call.
    """
    return cast(httpx.Client, client)


def person(kojin: Kojin, i: int, agencies: tuple[str, ...] = ("13105", "13104", "jps")) -> Person:
    """A person with a number, and codes obtained by ``agencies`` (取得番号 via J-LIS)."""
    code = make_juminhyo_code(f"{i:010d}")
    number = kojin.numbering.assign(code)
    codes = {a: kojin.agencies.obtain_code_unverified(a, number)[0] for a in agencies}
    return Person(code, number, codes)


def setup_demo(kojin: Kojin, people: int = 1) -> list[Person]:
    """Demo agencies; ``people`` persons whose 新宿区 copy of 地方税関係情報 exists."""
    ensure_demo_agencies(kojin)
    out = [person(kojin, i + 1) for i in range(people)]
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    server.update_copies(
        [
            CopyEntry(p.codes["13104"], LOCAL_TAX, {"taxable_income": 3_200_000 + n, "year": 2025})
            for n, p in enumerate(out)
        ]
    )
    return out


def counts(kojin: Kojin) -> dict[str, int]:
    """Every row count an exchange could change, except the log."""
    out = {f"hub.{k}": v for k, v in kojin.hub.counts().items()}
    for agency_id in kojin.agencies.ids():
        out.update({f"{agency_id}.{k}": v for k, v in kojin.agencies.get(agency_id).counts().items()})
    return out
