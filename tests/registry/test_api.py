"""The register's HTTP API: what it accepts fits the columns it is stored in."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from annotated_types import MaxLen
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import String

from kojin.app import Kojin
from kojin.auth.service import sign_challenge_with_card
from kojin.card.transport import InProcessTransport
from kojin.entrypoints.http.app import create_app
from kojin.registry import api
from kojin.registry.domain import Address, PersonDetails, Sex
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


def test_a_move_in_names_its_person_over_the_api(kojin: Kojin, client: TestClient) -> None:
    a = kojin.register.register(
        PersonDetails(
            "山田　太郎", "ヤマダ　タロウ", Sex.MALE, date(1980, 4, 1), Address("1130033", "", "", "", "2-2")
        ),
        municipality_code=CITY,
    )
    card = kojin.cards.issue(a.resident.resident_id, auth_pin="1234", signature_password="ABC123", algorithm="p256")
    kojin.register.move_out(a.resident.resident_id, destination="東京都新宿区")
    shinjuku = clerk_headers(kojin, "13104")
    body = {
        "name": "佐藤　太郎",  # married since the move-out
        "kana": "サトウ　タロウ",
        "sex": "1",
        "birth_date": "1980-04-01",
        "address": {"postal_code": "1600022", "block": "3-3"},
        "municipality_code": "13104",
        "kind": "move_in",
        "juminhyo_code": a.resident.juminhyo_code,
    }
    refused = client.post("/registry/residents", json=body, headers=shinjuku)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "juminhyo_code.person_mismatch")
    asked = client.post("/registry/card-challenge", json={"municipality_code": "13104"}, headers=shinjuku)
    challenge = asked.json()["challenge"]
    certificate, signature = sign_challenge_with_card(
        InProcessTransport(kojin.cards.load(card.card_id)), "1234", challenge
    )
    read = {
        "challenge": challenge,
        "certificate": base64.b64encode(certificate).decode(),
        "signature": base64.b64encode(signature).decode(),
    }
    moved = client.post("/registry/residents", json={**body, "card": read}, headers=shinjuku)
    assert moved.status_code == 201, moved.text
    assert moved.json()["resident"]["name"] == "佐藤　太郎"
    # The challenge was spent: the same reading does not register anyone twice.
    again = client.post("/registry/residents", json={**body, "card": read}, headers=shinjuku)
    assert 400 <= again.status_code < 500
    bad = client.post("/registry/residents", json={**body, "card": {**read, "signature": "***"}}, headers=shinjuku)
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "card.signature")
