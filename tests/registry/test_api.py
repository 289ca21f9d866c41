"""The register's HTTP API: what it accepts fits the columns it is stored in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from annotated_types import MaxLen
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import String

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.registry import api
from kojin.registry.store import residents
from tests.staff.support import CITY, clerk_headers

# What the API takes in a longer form than it stores: 113-0033 is stored as 1130033,
# a municipality code with its check digit (131059) as 13105.
NORMALISED = {"postal_code": 8, "municipality_code": 6}


def _inputs() -> list[type[BaseModel]]:
    return [
        model
        for model in vars(api).values()
        if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == api.__name__
    ]


def _max_length(model: type[BaseModel], name: str) -> int | None:
    lengths = [m.max_length for m in model.model_fields[name].metadata if isinstance(m, MaxLen)]
    return lengths[0] if lengths else None


def test_every_length_the_api_allows_is_its_columns() -> None:
    checked = set()
    for model in _inputs():
        for name in model.model_fields:
            allowed = _max_length(model, name)
            if name in NORMALISED:
                assert allowed == NORMALISED[name], (model.__name__, name)
            elif name in residents.c and isinstance(column := residents.c[name].type, String):
                assert allowed == column.length, (model.__name__, name, allowed, column.length)
                checked.add(name)
    # every text column a request fills is bounded by it
    assert {"name", "kana", "block", "building", "town", "city", "prefecture", "relationship", "sex"} <= checked


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as c:
        yield c


def _birth(block: str = "1-1", building: str = "") -> dict[str, Any]:
    address = {"postal_code": "1130033", "block": block, "building": building}
    return {
        "name": "山田　太郎",
        "kana": "ヤマダ　タロウ",
        "sex": "1",
        "birth_date": "2020-01-01",
        "address": address,
        "municipality_code": CITY,
    }


def test_a_longer_text_than_its_column_is_refused_on_every_database(kojin: Kojin, client: TestClient) -> None:
    clerk = clerk_headers(kojin)
    for body, field in ((_birth(block="一" * 200), "block"), (_birth(building="一" * 200), "building")):
        refused = client.post("/registry/residents", json=body, headers=clerk)
        error = refused.json()["error"]
        assert (refused.status_code, error["code"]) == (422, "request.invalid") and field in error["field"], error
    fits = client.post("/registry/residents", json=_birth(block="一" * 80, building="一" * 120), headers=clerk)
    assert fits.status_code == 201, fits.text
