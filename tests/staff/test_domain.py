"""The staff rules on their own: roles and organisations, purposes, the bulk rule, the second person."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kojin.core.errors import InvalidInput, KojinError, NotPermitted
from kojin.hub.domain import tasks
from kojin.staff.domain import (
    BULK_THRESHOLD,
    COUNTER_TASKS,
    ROLE_LABELS,
    ROLES_BY_KIND,
    Access,
    AccessEntry,
    AccessSeen,
    BulkRequest,
    BulkStatus,
    Organisation,
    OrganisationKind,
    PurposeKind,
    Role,
    StaffPrincipal,
    check_approver,
    check_exportable,
    check_may_hold,
    may_hold,
    needs_second_person,
    parse_access,
    parse_role,
    purposes,
    require_purpose,
    validate_bulk,
    validate_card_serial,
    validate_person_key,
    validate_staff_id,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CITY = Organisation.of("municipality", "131016")


def test_every_role_has_labels_and_a_scope_and_an_organisation_that_may_hold_it() -> None:
    assert set(ROLE_LABELS) == set(Role)
    assert ROLE_LABELS[Role.COUNTER_CLERK].ja == "窓口職員"
    assert all(label.ja and label.en and label.scope for label in ROLE_LABELS.values())
    assert set().union(*ROLES_BY_KIND.values()) == set(Role)
    assert set(ROLES_BY_KIND) == set(OrganisationKind)


@pytest.mark.parametrize(
    ("text", "kind", "org_id"),
    [
        ("municipality:131016", OrganisationKind.MUNICIPALITY, "131016"),
        ("municipality:13101", OrganisationKind.MUNICIPALITY, "13101"),
        ("jlis", OrganisationKind.JLIS, "jlis"),
        ("jlis:jlis", OrganisationKind.JLIS, "jlis"),
        ("agency:nenkin", OrganisationKind.AGENCY, "nenkin"),
        ("insurer:kenpo_01", OrganisationKind.INSURER, "kenpo_01"),
        ("linkage", OrganisationKind.LINKAGE, "linkage"),
        ("oversight", OrganisationKind.OVERSIGHT, "oversight"),
    ],
)
def test_organisations_parse_and_print_back(text: str, kind: OrganisationKind, org_id: str) -> None:
    org = Organisation.parse(text)
    assert (org.kind, org.id) == (kind, org_id)
    assert Organisation.parse(str(org)) == org


@pytest.mark.parametrize(
    "text",
    ["", "city:1", "municipality", "municipality:abc", "municipality:1234567", "agency:", "agency:NENKIN", "jlis:x"],
)
def test_a_bad_organisation_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Organisation.parse(text)
    assert caught.value.code == "staff.invalid_organisation"


def test_only_the_organisations_of_a_role_may_hold_it() -> None:
    assert may_hold(CITY, Role.COUNTER_CLERK)
    assert may_hold(Organisation.of("agency", "nenkin"), Role.AGENCY_OFFICER)
    assert may_hold(Organisation.of("oversight"), Role.AUDITOR)
    assert all(
        may_hold(Organisation.of(k, "x" if k in ("agency", "insurer") else "131016"), Role.SUPERVISOR)
        for k in ("municipality", "agency", "insurer")
    )
    assert not may_hold(CITY, Role.AUDITOR)
    assert not may_hold(Organisation.of("jlis"), Role.COUNTER_CLERK)
    with pytest.raises(InvalidInput) as caught:
        check_may_hold(Organisation.of("agency", "nenkin"), Role.INSURER_OFFICER)
    assert caught.value.code == "staff.role_not_for_organisation"


def test_roles_ids_and_serials_are_checked() -> None:
    assert parse_role("auditor") is Role.AUDITOR
    with pytest.raises(InvalidInput, match="root") as caught:
        parse_role("root")
    assert caught.value.code == "staff.invalid_role"
    assert validate_staff_id("c.tanaka-01") == "c.tanaka-01"
    for bad in ("", "Tanaka", "-x", "x" * 41, 7):
        with pytest.raises(InvalidInput):
            validate_staff_id(bad)
    assert validate_card_serial(None) is None
    with pytest.raises(InvalidInput):
        validate_card_serial("12 34")
    with pytest.raises(InvalidInput):
        validate_person_key("")
    with pytest.raises(InvalidInput):
        validate_person_key(" 12")


def test_purposes_are_the_exchange_tasks_and_the_counter_tasks_each_with_labels() -> None:
    found = purposes()
    assert set(tasks()) <= set(found)
    assert set(COUNTER_TASKS) <= set(found)
    assert len(found) == len(set(tasks()) | set(COUNTER_TASKS))
    assert found["住民票の写しの交付"].kind is PurposeKind.COUNTER
    assert found["児童手当の支給に関する事務"].kind is PurposeKind.EXCHANGE
    assert all(p.en and p.en.isascii() for p in found.values())
    for name in ("住民票の写しの交付", "転入届", "転出届", "個人番号カードの交付", "暗証番号の初期化"):
        assert name in found


@pytest.mark.parametrize(
    ("value", "code"),
    [(None, "staff.purpose_required"), ("  ", "staff.purpose_required"), ("興味本位", "staff.unknown_purpose")],
)
def test_a_missing_or_unknown_purpose_is_refused(value: str | None, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        require_purpose(value)
    assert caught.value.code == code
    assert caught.value.field == "purpose"


def test_the_bulk_rule_counts_people_listed_or_exported() -> None:
    assert BULK_THRESHOLD == 20
    assert not needs_second_person(Access.SEARCH, 20)
    assert needs_second_person(Access.SEARCH, 21)
    assert needs_second_person(Access.EXPORT, 21)
    assert not needs_second_person(Access.READ, 1)
    assert parse_access("export") is Access.EXPORT
    with pytest.raises(InvalidInput) as caught:
        parse_access("delete")
    assert caught.value.code == "staff.invalid_access"


def test_a_bulk_request_is_checked() -> None:
    assert validate_bulk(21, "agency:nenkin") == (21, "agency:nenkin")
    for row_count, recipient, field in [
        (0, "r", "row_count"),
        (True, "r", "row_count"),
        ("21", "r", "row_count"),
        (21, "", "recipient"),
        (21, "a/b", "recipient"),
        (21, None, "recipient"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            validate_bulk(row_count, recipient)
        assert (caught.value.code, caught.value.field) == ("staff.invalid_bulk", field)


def _principal(staff_id: str, role: Role, org: Organisation = CITY) -> StaffPrincipal:
    return StaffPrincipal(staff_id, role, org, "jti", NOW)


def test_the_second_person_is_another_supervisor_of_the_same_organisation() -> None:
    request = BulkRequest(1, "clerk", CITY, "転入届", 30, "r", BulkStatus.PENDING, NOW, None, None)
    check_approver(request, _principal("boss", Role.SUPERVISOR))
    for approver in (
        _principal("clerk", Role.SUPERVISOR),  # the requester, even as a supervisor
        _principal("clerk2", Role.COUNTER_CLERK),
        _principal("boss2", Role.SUPERVISOR, Organisation.of("municipality", "131024")),
    ):
        with pytest.raises(NotPermitted) as caught:
            check_approver(request, approver)
        assert caught.value.code == "staff.two_person_rule"


def test_an_export_needs_an_approved_unused_request_covering_it() -> None:
    purpose = require_purpose("転入届")
    approved = BulkRequest(1, "clerk", CITY, "転入届", 30, "r", BulkStatus.APPROVED, NOW, "boss", NOW)
    clerk = _principal("clerk", Role.COUNTER_CLERK)
    check_exportable(approved, clerk, purpose, 30)
    refusals = [
        (replace(approved, status=BulkStatus.PENDING), clerk, 30, "staff.two_person_rule"),
        (approved, clerk, 31, "staff.two_person_rule"),
        (approved, _principal("clerk2", Role.COUNTER_CLERK), 1, "staff.two_person_rule"),
        (replace(approved, purpose="出生届"), clerk, 1, "staff.two_person_rule"),
        (replace(approved, status=BulkStatus.EXPORTED), clerk, 1, "staff.bulk_used"),
    ]
    for request, principal, count, code in refusals:
        with pytest.raises(KojinError) as caught:
            check_exportable(request, principal, purpose, count)
        assert caught.value.code == code


def test_the_person_sees_no_staff_member() -> None:
    entry = AccessEntry(1, NOW, "c.tanaka", "田中 一郎", Role.COUNTER_CLERK, CITY, "42", "転入届", Access.READ, 1)
    seen = AccessSeen.of(entry)
    assert "c.tanaka" not in repr(seen)
    assert "田中" not in repr(seen)
    assert (seen.organisation, seen.role, seen.purpose, seen.at) == (CITY, Role.COUNTER_CLERK, "転入届", NOW)
