"""Agency officers over HTTP: the own agency's copies and §23 records of one person, never another agency's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kojin.agency.domain import CopyEntry
from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.domain import Role
from tests.hub.helpers import LOCAL_TAX, Person
from tests.staff.support import staff_headers

PURPOSE = {"purpose": "地方税の賦課又は徴収に関する事務"}


def test_an_officer_reads_the_own_agencys_copies_and_records_of_one_person(kojin: Kojin, people: list[Person]) -> None:
    code = people[0].codes["13104"]
    kojin.agencies.get("13104").update_copies([CopyEntry(code, LOCAL_TAX, {"taxable_income": 1})])
    shinjuku = staff_headers(kojin, Role.AGENCY_OFFICER, "agency:13104")
    with TestClient(create_app(kojin), raise_server_exceptions=False, headers=shinjuku) as client:
        copies = client.get("/agency/13104/copies", params={"code": code, **PURPOSE})
        records = client.get("/agency/13104/records", params={"code": code, **PURPOSE})
    assert copies.status_code == 200 and copies.json()["copies"][0]["payload"] == {"taxable_income": 1}
    assert records.status_code == 200 and "records" in records.json()
    # Recorded under the agency's own code for the person, which the portal finds through J-LIS's link id.
    looks = kojin.staff.accesses_of(code)
    assert [(str(look.organisation), look.purpose) for look in looks] == [
        ("agency:13104", "地方税の賦課又は徴収に関する事務")
    ] * 2


def test_an_officer_of_another_agency_reads_nothing(kojin: Kojin, people: list[Person]) -> None:
    code = people[0].codes["13104"]
    kojin.agencies.get("13104").update_copies([CopyEntry(code, LOCAL_TAX, {"taxable_income": 1})])
    bunkyo = staff_headers(kojin, Role.AGENCY_OFFICER, "agency:13105")
    clerk = staff_headers(kojin, Role.COUNTER_CLERK, "municipality:13104")
    with TestClient(create_app(kojin), raise_server_exceptions=False) as client:
        for headers, status, reason in ((bunkyo, 403, "staff.not_in_scope"), (clerk, 403, "staff.wrong_role")):
            for what in ("copies", "records"):
                answer = client.get(f"/agency/13104/{what}", params={"code": code, **PURPOSE}, headers=headers)
                assert (answer.status_code, answer.json()["error"]["code"]) == (status, reason)
                assert "taxable_income" not in answer.text
    assert kojin.staff.accesses_of(code) == []
