"""The bulk export through the API, end to end: request, refusal, approval by another supervisor, export, decryption."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.registry.domain import Address, PersonDetails, Sex, resident_record
from kojin.staff.domain import BULK_REQUESTS_PER_HOUR, Role
from tests.staff.support import CITY, clerk_headers, openssl_decrypt, recipient_key, staff_headers

PURPOSE = "国民健康保険の保険給付の支給又は保険料の徴収に関する事務"
NENKIN = "agency:nenkin"


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as c:
        yield c


POSTAL = {CITY: "1130033", "13104": "1600022"}  # 文京区本郷, 新宿区新宿


def _residents(kojin: Kojin, count: int, municipality: str = CITY) -> list[dict[str, object]]:
    records = []
    for i in range(count):
        details = PersonDetails(
            f"試験　{i:02d}",
            "シケン　タロウ",
            Sex.MALE,
            date(1980, 1, 1 + i % 28),
            Address(POSTAL[municipality], "", "", "", "1-1"),
        )
        registration = kojin.register.register(details, municipality_code=municipality, today=date(2026, 11, 24))
        records.append(resident_record(registration.resident))
    return records


def _supervisor(kojin: Kojin, staff_id: str, organisation: str = f"municipality:{CITY}") -> dict[str, str]:
    return staff_headers(kojin, Role.SUPERVISOR, organisation, staff_id=staff_id)


def _code(response: httpx2.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _register_recipient(client: TestClient, kojin: Kojin) -> None:
    body = {"name": NENKIN, "certificate_pem": recipient_key().certificate_pem}
    r = client.post("/staff/recipients", json=body, headers=_supervisor(kojin, "s.keeper"))
    assert r.status_code == 201, r.text
    assert r.json()["registered_by"] == "s.keeper"


def test_the_two_person_rule_end_to_end(client: TestClient, kojin: Kojin, tmp_path: Path) -> None:
    records = _residents(kojin, 25)
    _residents(kojin, 2, "13104")  # another municipality's residents are never in the file
    _register_recipient(client, kojin)
    clerk = clerk_headers(kojin)
    asked = client.post("/staff/bulk", json={"purpose": PURPOSE, "row_count": 30, "recipient": NENKIN}, headers=clerk)
    assert asked.status_code == 201, asked.text
    bulk_id = asked.json()["bulk_id"]
    assert (asked.json()["status"], asked.json()["export"]) == ("pending", None)
    export = {"bulk_id": bulk_id, "purpose": PURPOSE}

    # Not approved yet: refused, nothing recorded, no file.
    assert _code(client.post("/registry/export", json=export, headers=clerk)) == (403, "staff.two_person_rule")
    assert kojin.staff.refusals.recent(1)[0].code == "staff.two_person_rule"
    # Not the clerk, not a supervisor of another organisation.
    approve = f"/staff/bulk/{bulk_id}/approve"
    assert _code(client.post(approve, headers=clerk)) == (403, "staff.wrong_role")
    elsewhere = _supervisor(kojin, "s.other", "municipality:13104")
    assert _code(client.post(approve, headers=elsewhere)) == (403, "staff.two_person_rule")
    assert _code(client.get(f"/staff/bulk/{bulk_id}", headers=elsewhere)) == (403, "staff.other_organisation")

    approved = client.post(approve, headers=_supervisor(kojin, "s.yamada"))
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approver_id"]) == ("approved", "s.yamada")
    assert _code(client.post("/registry/export", json=export, headers=clerk_headers(kojin, "13104"))) == (
        403,
        "staff.two_person_rule",
    )

    done = client.post("/registry/export", json=export, headers=clerk)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["rows"], answer["recipient"]) == (25, NENKIN)
    path = kojin.settings.data_dir / "exports" / answer["file"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert answer["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    rows = [json.loads(line) for line in openssl_decrypt(path, recipient_key(), tmp_path).decode().splitlines()]
    assert rows == records
    shown = kojin.staff.accesses_by(f"counter_clerk.municipality.{CITY}".replace("_", "-"))
    assert sorted(a.person_key for a in shown) == sorted(str(r["resident_id"]) for r in records)
    assert {a.what.value for a in shown} == {"export"}

    kept = client.get(f"/staff/bulk/{bulk_id}", headers=clerk).json()
    assert kept["status"] == "exported"
    assert kept["export"] == {**{k: answer[k] for k in ("file", "rows", "sha256")}, "at": kept["export"]["at"]}
    assert _code(client.post("/registry/export", json=export, headers=clerk)) == (409, "staff.bulk_used")
    assert len(list(path.parent.iterdir())) == 1


def test_a_supervisor_cannot_approve_their_own_request(client: TestClient, kojin: Kojin) -> None:
    _register_recipient(client, kojin)
    boss = _supervisor(kojin, "s.yamada")
    asked = client.post("/staff/bulk", json={"purpose": PURPOSE, "row_count": 30, "recipient": NENKIN}, headers=boss)
    bulk_id = asked.json()["bulk_id"]
    assert _code(client.post(f"/staff/bulk/{bulk_id}/approve", headers=boss)) == (403, "staff.two_person_rule")
    assert client.get(f"/staff/bulk/{bulk_id}", headers=boss).json()["status"] == "pending"


def test_requests_are_checked_and_rate_limited(client: TestClient, kojin: Kojin) -> None:
    clerk = clerk_headers(kojin)
    body = {"purpose": PURPOSE, "row_count": 30, "recipient": NENKIN}
    assert _code(client.post("/staff/bulk", json=body, headers=clerk)) == (404, "staff.unknown_recipient")
    _register_recipient(client, kojin)
    admin = staff_headers(kojin, Role.SYSADMIN)
    assert _code(client.post("/staff/bulk", json=body, headers=admin)) == (403, "staff.wrong_role")
    for _ in range(BULK_REQUESTS_PER_HOUR):
        assert client.post("/staff/bulk", json=body, headers=clerk).status_code == 201
    assert _code(client.post("/staff/bulk", json=body, headers=clerk)) == (429, "staff.rate_limited")
    assert client.post("/staff/bulk", json=body, headers=_supervisor(kojin, "s.yamada")).status_code == 201


def test_recipients_are_registered_by_supervisors_and_administrators(client: TestClient, kojin: Kojin) -> None:
    body = {"name": NENKIN, "certificate_pem": recipient_key().certificate_pem}
    assert _code(client.post("/staff/recipients", json=body, headers=clerk_headers(kojin))) == (403, "staff.wrong_role")
    weak = {"name": "weak", "certificate_pem": recipient_key(bits=1024).certificate_pem}
    admin = staff_headers(kojin, Role.SYSADMIN)
    assert _code(client.post("/staff/recipients", json=weak, headers=admin)) == (422, "staff.recipient_certificate_key")
    assert client.post("/staff/recipients", json=body, headers=admin).status_code == 201
    shown = client.get(f"/staff/recipients/{NENKIN}", headers=clerk_headers(kojin)).json()
    assert shown["name"] == NENKIN and shown["registered_by"].startswith("sysadmin")
    assert client.post("/staff/recipients", json=body).status_code == 401
