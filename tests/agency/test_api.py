"""Agency officers over HTTP: the own agency's copies and §23 records of one person, never another agency's."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kojin.agency.domain import CopyEntry
from kojin.app import Kojin
from kojin.demo.agencies import ensure_demo_agencies
from kojin.entrypoints.http.app import create_app
from kojin.hub.store import persons as hub_persons
from kojin.registry.domain import Address, PersonDetails, Sex
from kojin.registry.service import Registration
from kojin.staff.domain import Role
from tests.hub.helpers import LOCAL_TAX, Person
from tests.staff.support import staff_headers

PURPOSE = {"purpose": "地方税の賦課又は徴収に関する事務"}
TODAY = date(2026, 11, 24)
HONGO = Address("1130033", "", "", "", "4-15-14")


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


def _family(kojin: Kojin) -> tuple[Registration, Registration]:
    """A mother and her daughter in one household: one form, two numbers."""
    ensure_demo_agencies(kojin)
    mother = kojin.register.register(
        PersonDetails("山田　花子", "ヤマダ　ハナコ", Sex.FEMALE, date(1982, 6, 3), HONGO),
        municipality_code="13105",
        today=TODAY,
    )
    daughter = kojin.register.register(
        PersonDetails("山田　桜", "ヤマダ　サクラ", Sex.FEMALE, date(2012, 3, 9), HONGO),
        municipality_code="13105",
        household_id=mother.resident.household_id,
        relationship="子",
        today=TODAY,
    )
    return mother, daughter


def _items(reg: Registration, **change: str) -> dict[str, str]:
    r = reg.resident
    items = {
        "name": r.name,
        "kana": r.kana,
        "sex": r.sex.value,
        "birth_date": r.birth_date.isoformat(),
        "address": r.address.one_line(),
    }
    return {**items, **change}


def _hub_people(kojin: Kojin) -> int:
    with kojin.hub.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(hub_persons)).scalar_one())


def test_family_members_number_is_refused(kojin: Kojin) -> None:
    mother, daughter = _family(kojin)
    bunkyo = staff_headers(kojin, Role.AGENCY_OFFICER, "agency:13105")
    before = (_hub_people(kojin), kojin.agencies.get("13105").counts()["people"])
    with TestClient(create_app(kojin), raise_server_exceptions=False, headers=bunkyo) as client:
        # The daughter's items with her mother's number, keyed from the same form.
        wrong = client.post("/agency/13105/codes", json={"number": mother.number_notice, **_items(daughter)})
        assert wrong.status_code == 409, wrong.text
        error = wrong.json()["error"]
        assert (error["code"], error["field"]) == ("number.person_mismatch", "number")
        assert mother.number_notice not in wrong.text
        # Nothing was issued or enrolled: neither the hub nor the agency knows anyone new.
        assert (_hub_people(kojin), kojin.agencies.get("13105").counts()["people"]) == before
        [refusal] = kojin.staff.refusals.recent()
        assert (refusal.code, refusal.method, refusal.path) == ("number.person_mismatch", "POST", "/agency/13105/codes")
        assert refusal.organisation == "agency:13105" and mother.number_notice not in refusal.path

        # Her own number, with her items written another way, obtains her code.
        own = _items(daughter, name="山田 桜", kana="ﾔﾏﾀﾞ ｻｸﾗ", address="東京都文京区本郷四丁目15番14号")
        right = client.post("/agency/13105/codes", json={"number": daughter.number_notice, "local_id": "A-1", **own})
        assert right.status_code == 200, right.text
        assert right.json()["local_id"] == "A-1"
        # The same code the J-LIS way from her register record.
        assert right.json()["code"] == kojin.agencies.obtain_code_unverified("13105", daughter.number_notice)[0]


def test_a_number_needs_all_four_items_and_each_is_compared(kojin: Kojin) -> None:
    mother, _daughter = _family(kojin)
    bunkyo = staff_headers(kojin, Role.AGENCY_OFFICER, "agency:13105")
    with TestClient(create_app(kojin), raise_server_exceptions=False, headers=bunkyo) as client:
        for change, field in (
            ({"birth_date": "1982-06-04"}, "number"),
            ({"sex": "1"}, "number"),
            ({"address": "東京都新宿区西新宿2-8-1"}, "number"),
            ({"kana": "ヤマダ　ハナエ"}, "number"),
            ({"address": ""}, "address"),
        ):
            answer = client.post(
                "/agency/13105/codes", json={"number": mother.number_notice, **_items(mother, **change)}
            )
            assert answer.status_code in (409, 422) and answer.json()["error"]["field"] == field, (change, answer.text)
        missing = client.post("/agency/13105/codes", json={"number": mother.number_notice})
        assert missing.status_code == 422
        # Another agency's officer is refused before J-LIS is asked.
        shinjuku = staff_headers(kojin, Role.AGENCY_OFFICER, "agency:13104")
        other = client.post(
            "/agency/13105/codes", json={"number": mother.number_notice, **_items(mother)}, headers=shinjuku
        )
        assert other.json()["error"]["code"] == "staff.not_in_scope"
    assert _hub_people(kojin) == 0
