"""職員の閲覧記録: the person's keys (resident id, each agency's code) gathered, offices named, staff never."""

from __future__ import annotations

from datetime import date

from kojin.app import Kojin
from kojin.demo.agencies import DEMO_AGENCIES
from kojin.staff.domain import Role, StaffPrincipal
from tests.portal.helpers import resident
from tests.staff.support import clerk_headers, staff_headers


def _principal(kojin: Kojin, headers: dict[str, str]) -> StaffPrincipal:
    return kojin.staff.check_token(headers["authorization"].removeprefix("Bearer "))


def test_looks_under_every_key_of_the_person_newest_first(kojin: Kojin) -> None:
    person = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    neighbour = resident(kojin, "佐藤　京子", "サトウ　キョウコ", date(1975, 9, 9), block="2")
    for agency_id, name, kind in DEMO_AGENCIES[:2]:
        kojin.agencies.create(agency_id, name=name, kind=kind)
    code, _ = kojin.agencies.obtain_code_unverified("13104", kojin.numbering.number_for(person.juminhyo_code))

    clerk = _principal(kojin, clerk_headers(kojin))
    officer = _principal(kojin, staff_headers(kojin, Role.AGENCY_OFFICER, "agency:13104"))
    kojin.staff.record_access(clerk, str(person.resident_id), "住民票の写しの交付", "read")
    kojin.staff.record_access(officer, code, "地方税の賦課又は徴収に関する事務", "read")
    kojin.staff.record_access(clerk, str(neighbour.resident_id), "転出届", "read")

    assert kojin.portal.staff_looks is not None
    looks = kojin.portal.staff_looks.of(person)
    assert [(look.organisation, look.role, look.purpose) for look in looks] == [
        (kojin.hub.agency("13104").name, "機関職員", "地方税の賦課又は徴収に関する事務"),
        ("東京都文京区", "窓口職員", "住民票の写しの交付"),
    ]
    assert [look.purpose for look in kojin.portal.staff_looks.of(neighbour)] == ["転出届"]
