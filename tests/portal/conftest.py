"""Portal fixtures: a family and a neighbour with P-256 cards, and browsers on one app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI

from kojin.app import Kojin
from kojin.card.issuance import IssuedCard
from kojin.entrypoints.http.app import create_app
from kojin.registry.domain import Resident, Sex
from tests.portal.helpers import Browser, card, resident


@dataclass(frozen=True)
class Person:
    resident: Resident
    card: IssuedCard

    @property
    def rid(self) -> int:
        return self.resident.resident_id


@dataclass(frozen=True)
class Town:
    """A parent and two children in one household (one under 15, one not), and a neighbour."""

    parent: Person
    child: Person
    teen: Person
    neighbour: Person


@pytest.fixture
def town(kojin: Kojin) -> Town:
    parent = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    child = resident(
        kojin,
        "山田　花子",
        "ヤマダ　ハナコ",
        date(2016, 5, 5),
        sex=Sex.FEMALE,
        head=parent.resident_id,
        relationship="子",
    )
    teen = resident(
        kojin, "山田　一郎", "ヤマダ　イチロウ", date(2010, 1, 10), head=parent.resident_id, relationship="子"
    )
    neighbour = resident(kojin, "佐藤　京子", "サトウ　キョウコ", date(1975, 9, 9), sex=Sex.FEMALE, block="2")
    return Town(*(Person(p, card(kojin, p)) for p in (parent, child, teen, neighbour)))


@pytest.fixture
def app(kojin: Kojin) -> FastAPI:
    return create_app(kojin)


@pytest.fixture
def browser(app: FastAPI) -> Callable[..., Browser]:
    """Make a browser (``browser()``), each with its own cookies."""

    def make(**kw: Any) -> Browser:
        return Browser(app, **kw)

    return make
