"""StaffService: registration, scope checks, and the access log as the person and the auditor see it."""

from __future__ import annotations

import pytest

from kojin.app import Kojin
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted
from kojin.staff.domain import Access, Organisation, Role, StaffPrincipal
from kojin.staff.service import SEARCH_HOURLY_LIMIT

CITY = Organisation.of("municipality", "131016")
OTHER_CITY = Organisation.of("municipality", "131024")
NENKIN = Organisation.of("agency", "nenkin")


def _login(kojin: Kojin, staff_id: str, role: Role, org: Organisation, name: str = "職員") -> StaffPrincipal:
    kojin.staff.register(staff_id, name, org, role)
    return kojin.staff.check_token(kojin.staff.issue_token(staff_id).access_token)


def test_registering_staff(kojin: Kojin) -> None:
    member = kojin.staff.register("c.tanaka", " 田中 一郎 ", CITY, Role.COUNTER_CLERK, "SC0001")
    assert member.display_name == "田中 一郎"
    assert kojin.staff.member("c.tanaka") == member
    with pytest.raises(Conflict) as exists:
        kojin.staff.register("c.tanaka", "別人", CITY, Role.COUNTER_CLERK)
    assert exists.value.code == "staff.exists"
    with pytest.raises(Conflict):  # the staff card is another member's
        kojin.staff.register("c.suzuki", "鈴木", CITY, Role.COUNTER_CLERK, "SC0001")
    with pytest.raises(InvalidInput) as wrong:
        kojin.staff.register("a.sato", "佐藤", NENKIN, Role.COUNTER_CLERK)
    assert wrong.value.code == "staff.role_not_for_organisation"
    with pytest.raises(NotFound) as unknown:
        kojin.staff.issue_token("nobody")
    assert unknown.value.code == "staff.unknown"


def test_authorise_is_default_deny_by_role_and_organisation(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK, CITY)
    kojin.staff.authorise(clerk, Role.COUNTER_CLERK, CITY)
    kojin.staff.authorise(clerk, {Role.COUNTER_CLERK, Role.SUPERVISOR})
    with pytest.raises(NotPermitted) as role:
        kojin.staff.authorise(clerk, Role.SUPERVISOR, CITY)
    assert (role.value.code, role.value.status) == ("staff.wrong_role", 403)
    with pytest.raises(NotPermitted) as other:
        kojin.staff.authorise(clerk, Role.COUNTER_CLERK, OTHER_CITY)
    assert (other.value.code, other.value.status) == ("staff.other_organisation", 403)
    officer = _login(kojin, "n.ito", Role.AGENCY_OFFICER, NENKIN)
    with pytest.raises(NotPermitted) as agency:
        kojin.staff.authorise(officer, Role.AGENCY_OFFICER, Organisation.of("agency", "nta"))
    assert agency.value.code == "staff.other_organisation"


def test_a_read_is_recorded_and_the_person_sees_it_without_the_staff_name(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK, CITY, "田中 一郎")
    officer = _login(kojin, "n.ito", Role.AGENCY_OFFICER, NENKIN, "伊藤 花子")
    kojin.staff.record_access(clerk, "42", "住民票の写しの交付", "read")
    kojin.staff.record_access(officer, "42", "年金給付の支給に関する事務", "read")
    kojin.staff.record_access(clerk, "43", "転入届", "write")
    seen = kojin.staff.accesses_of("42")
    assert [(s.organisation, s.role, s.purpose, s.what) for s in seen] == [
        (CITY, Role.COUNTER_CLERK, "住民票の写しの交付", Access.READ),
        (NENKIN, Role.AGENCY_OFFICER, "年金給付の支給に関する事務", Access.READ),
    ]
    assert all(s.at.tzinfo is not None for s in seen)
    assert not any(word in repr(seen) for word in ("田中", "伊藤", "c.tanaka", "n.ito"))
    audited = kojin.staff.accesses_by("c.tanaka")
    assert [(a.person_key, a.staff_name, a.purpose, a.count) for a in audited] == [
        ("42", "田中 一郎", "住民票の写しの交付", 1),
        ("43", "田中 一郎", "転入届", 1),
    ]
    assert kojin.staff.accesses_of("44") == []


@pytest.mark.parametrize(
    ("purpose", "what", "count", "code"),
    [
        (None, "read", 1, "staff.purpose_required"),
        ("", "read", 1, "staff.purpose_required"),
        ("興味本位", "read", 1, "staff.unknown_purpose"),
        ("転入届", "peek", 1, "staff.invalid_access"),
        ("転入届", "search", 0, "staff.invalid_count"),
    ],
)
def test_a_bad_access_is_refused_and_nothing_recorded(
    kojin: Kojin, purpose: str | None, what: str, count: int, code: str
) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK, CITY)
    with pytest.raises(InvalidInput) as caught:
        kojin.staff.record_access(clerk, "42", purpose, what, count)
    assert caught.value.code == code
    assert kojin.staff.accesses_of("42") == []


@pytest.mark.parametrize(("role", "org"), [(Role.SYSADMIN, CITY), (Role.AUDITOR, Organisation.of("oversight"))])
def test_roles_without_personal_data_cannot_read_a_person(kojin: Kojin, role: Role, org: Organisation) -> None:
    principal = _login(kojin, "x.admin", role, org)
    with pytest.raises(NotPermitted) as caught:
        kojin.staff.record_access(principal, "42", "転入届", "read")
    assert caught.value.code == "staff.wrong_role"
    assert kojin.staff.accesses_of("42") == []


def test_a_search_records_every_person_shown(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK, CITY)
    shown = [str(n) for n in range(100, 120)]
    for key in shown:
        kojin.staff.record_access(clerk, key, "転出届", "search", count=len(shown))
    assert all(len(kojin.staff.accesses_of(key)) == 1 for key in shown)
    assert {a.count for a in kojin.staff.accesses_by("c.tanaka")} == {20}


def test_record_shown_writes_one_entry_per_person_and_one_leaf_each(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK, CITY)
    before = kojin.exchange_log.size()
    refs = kojin.staff.record_shown(clerk, ["7", "8", "9"], "転出届", "search")
    assert len(refs) == 3
    assert kojin.exchange_log.size() == before + 3
    assert [a.count for a in kojin.staff.accesses_by("c.tanaka")] == [3, 3, 3]


def test_paging_through_a_municipality_is_capped_per_hour(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK, CITY)
    pages = SEARCH_HOURLY_LIMIT // 20
    for page in range(pages):
        kojin.staff.record_shown(clerk, [str(page * 20 + n) for n in range(20)], "転出届", "search")
    with pytest.raises(KojinError) as refused:
        kojin.staff.record_shown(clerk, ["99999"], "転出届", "search")
    assert refused.value.code == "staff.search_limit" and refused.value.status == 429
    assert kojin.staff.accesses_of("99999") == []
    # A read of one person is not a listing, and another member has their own hour.
    kojin.staff.record_access(clerk, "99999", "転出届", "read")
    other = _login(kojin, "c.suzuki", Role.COUNTER_CLERK, CITY)
    kojin.staff.record_shown(other, ["99999"], "転出届", "search")
