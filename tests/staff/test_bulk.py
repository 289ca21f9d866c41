"""The two-person rule: more than 20 people listed or exported needs another supervisor of the same organisation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kojin.app import Kojin
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted, TooManyRequests
from kojin.staff.domain import BULK_REQUESTS_PER_HOUR, BulkStatus, Organisation, Role, StaffPrincipal
from kojin.staff.service import StaffService
from tests.staff.support import recipient_key

CITY = Organisation.of("municipality", "131016")
OTHER_CITY = Organisation.of("municipality", "131024")
PURPOSE = "国民健康保険の保険給付の支給又は保険料の徴収に関する事務"
NENKIN = "agency:nenkin"


def _login(kojin: Kojin, staff_id: str, role: Role, org: Organisation = CITY) -> StaffPrincipal:
    if kojin.staff.roster.find(staff_id) is None:
        kojin.staff.register(staff_id, staff_id, org, role)
    return kojin.staff.check_token(kojin.staff.issue_token(staff_id).access_token)


@pytest.fixture
def kojin(kojin: Kojin) -> Kojin:
    """A kojin with the recipient ``agency:nenkin`` registered by a supervisor of CITY."""
    kojin.staff.add_recipient(_login(kojin, "s.admin", Role.SYSADMIN), NENKIN, recipient_key().certificate_pem)
    return kojin


def _refused(code: str, attempt: Callable[[], object], status: int = 403) -> KojinError:
    with pytest.raises(KojinError) as caught:
        attempt()
    assert (caught.value.code, caught.value.status) == (code, status)
    return caught.value


def test_a_bulk_export_without_approval_is_refused(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    _refused("staff.two_person_rule", lambda: kojin.staff.record_access(clerk, "42", PURPOSE, "export", 21))
    pending = kojin.staff.request_bulk(clerk, PURPOSE, 21, NENKIN)
    assert (pending.status, pending.export) == (BulkStatus.PENDING, None)
    _refused(
        "staff.two_person_rule",
        lambda: kojin.staff.record_access(clerk, "42", PURPOSE, "export", 21, bulk_id=pending.bulk_id),
    )
    assert kojin.staff.accesses_of("42") == []


def test_another_supervisor_of_the_same_organisation_approves(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    request = kojin.staff.request_bulk(clerk, PURPOSE, 25, NENKIN)
    approved = kojin.staff.approve_bulk(boss, request.bulk_id)
    assert (approved.status, approved.approver_id) == (BulkStatus.APPROVED, "s.yamada")
    assert (approved.row_count, approved.recipient, approved.export) == (25, NENKIN, None)
    assert approved.approved_at is not None
    for key in ("1", "2"):
        kojin.staff.record_access(clerk, key, PURPOSE, "export", 25, bulk_id=request.bulk_id)
    assert [a.person_key for a in kojin.staff.accesses_by("c.tanaka")] == ["1", "2"]
    with pytest.raises(Conflict) as twice:
        kojin.staff.approve_bulk(_login(kojin, "s.kato", Role.SUPERVISOR), request.bulk_id)
    assert twice.value.code == "staff.bulk_not_pending"


def test_an_approval_covers_only_its_requester_purpose_and_size(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    colleague = _login(kojin, "c.suzuki", Role.COUNTER_CLERK)
    request = kojin.staff.request_bulk(clerk, PURPOSE, 25, NENKIN)
    kojin.staff.approve_bulk(_login(kojin, "s.yamada", Role.SUPERVISOR), request.bulk_id)
    bulk = request.bulk_id
    _refused(
        "staff.two_person_rule", lambda: kojin.staff.record_access(colleague, "1", PURPOSE, "export", 25, bulk_id=bulk)
    )
    _refused(
        "staff.two_person_rule", lambda: kojin.staff.record_access(clerk, "1", "転入届", "export", 25, bulk_id=bulk)
    )
    _refused(
        "staff.two_person_rule", lambda: kojin.staff.record_access(clerk, "1", PURPOSE, "export", 26, bulk_id=bulk)
    )


def test_the_requester_cannot_approve_their_own_request(kojin: Kojin) -> None:
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    request = kojin.staff.request_bulk(boss, PURPOSE, 30, NENKIN)
    _refused("staff.two_person_rule", lambda: kojin.staff.approve_bulk(boss, request.bulk_id))
    assert kojin.staff.bulk_request(request.bulk_id).status is BulkStatus.PENDING


def test_a_non_supervisor_cannot_approve(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    colleague = _login(kojin, "c.suzuki", Role.COUNTER_CLERK)
    request = kojin.staff.request_bulk(clerk, PURPOSE, 30, NENKIN)
    _refused("staff.two_person_rule", lambda: kojin.staff.approve_bulk(colleague, request.bulk_id))


def test_a_supervisor_of_another_organisation_cannot_approve(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    elsewhere = _login(kojin, "s.other", Role.SUPERVISOR, OTHER_CITY)
    request = kojin.staff.request_bulk(clerk, PURPOSE, 30, NENKIN)
    _refused("staff.two_person_rule", lambda: kojin.staff.approve_bulk(elsewhere, request.bulk_id))
    assert kojin.staff.bulk_request(request.bulk_id).status is BulkStatus.PENDING
    _refused("staff.other_organisation", lambda: kojin.staff.bulk_request_for(elsewhere, request.bulk_id))
    auditor = _login(kojin, "a.mori", Role.AUDITOR, Organisation.of("oversight"))
    assert kojin.staff.bulk_request_for(auditor, request.bulk_id).requester_id == "c.tanaka"


def test_an_unknown_request_recipient_or_purpose(kojin: Kojin) -> None:
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    with pytest.raises(NotFound) as unknown:
        kojin.staff.approve_bulk(boss, 999)
    assert unknown.value.code == "staff.unknown_bulk"
    with pytest.raises(InvalidInput) as no_purpose:
        kojin.staff.request_bulk(boss, None, 30, NENKIN)
    assert no_purpose.value.code == "staff.purpose_required"
    with pytest.raises(NotFound) as nobody:
        kojin.staff.request_bulk(boss, PURPOSE, 30, "agency:nta")
    assert (nobody.value.code, nobody.value.field) == ("staff.unknown_recipient", "recipient")
    with pytest.raises(InvalidInput) as bad:
        kojin.staff.request_bulk(boss, PURPOSE, 0, NENKIN)
    assert (bad.value.code, bad.value.field) == ("staff.invalid_bulk", "row_count")


def test_bulk_requests_are_rate_limited_per_staff_member(kojin: Kojin) -> None:
    now = [kojin.staff.now().timestamp()]
    staff = StaffService(kojin.staff.engine, clock=lambda: now[0])
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    colleague = _login(kojin, "c.suzuki", Role.COUNTER_CLERK)
    for _ in range(BULK_REQUESTS_PER_HOUR):
        staff.request_bulk(clerk, PURPOSE, 30, NENKIN)
        now[0] += 60
    with pytest.raises(TooManyRequests) as limited:
        staff.request_bulk(clerk, PURPOSE, 30, NENKIN)
    assert (limited.value.code, limited.value.status) == ("staff.rate_limited", 429)
    staff.request_bulk(colleague, PURPOSE, 30, NENKIN)  # the limit is each staff member's own
    now[0] += 3600 - 60 * (BULK_REQUESTS_PER_HOUR - 1)  # the first request is now an hour old
    assert staff.request_bulk(clerk, PURPOSE, 30, NENKIN).status is BulkStatus.PENDING
    staff.close()


def test_roles_without_personal_data_cannot_request(kojin: Kojin) -> None:
    admin = _login(kojin, "s.admin", Role.SYSADMIN)
    with pytest.raises(NotPermitted) as caught:
        kojin.staff.request_bulk(admin, PURPOSE, 30, NENKIN)
    assert caught.value.code == "staff.wrong_role"
