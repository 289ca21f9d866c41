"""export_residents: the own municipality's residents after a given id, at most the approved count, by a clerk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.registry.export import export_residents
from kojin.staff.domain import Organisation, Role, StaffPrincipal
from tests.registry.test_service import person, register
from tests.staff.support import openssl_decrypt, recipient_key

CITY = Organisation.of("municipality", "13105")
PURPOSE = "地方税の賦課又は徴収に関する事務"


def _login(kojin: Kojin, staff_id: str, role: Role) -> StaffPrincipal:
    kojin.staff.register(staff_id, staff_id, CITY, role)
    return kojin.staff.check_token(kojin.staff.issue_token(staff_id).access_token)


def test_the_export_takes_residents_after_the_given_id_up_to_the_approved_count(kojin: Kojin, tmp_path: Path) -> None:
    ids = [register(kojin, person(name=f"山田　{n}郎")).resident.resident_id for n in "一二三四五六"]
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    kojin.staff.add_recipient(boss, "agency:nta", recipient_key().certificate_pem)
    request = kojin.staff.request_bulk(clerk, PURPOSE, 3, "agency:nta")
    kojin.staff.approve_bulk(boss, request.bulk_id)
    done = export_residents(kojin.register, kojin.staff, clerk, request.bulk_id, PURPOSE, after=ids[1])
    assert done.export is not None and done.export.rows == 3
    assert kojin.staff.exports_dir is not None
    text = openssl_decrypt(kojin.staff.exports_dir / done.export.file_name, recipient_key(), tmp_path).decode()
    assert [f'"resident_id":{i},' in line for i, line in zip(ids[2:5], text.splitlines(), strict=True)] == [True] * 3


def test_only_a_counter_clerk_exports_the_register(kojin: Kojin) -> None:
    register(kojin)
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    other = _login(kojin, "s.kato", Role.SUPERVISOR)
    kojin.staff.add_recipient(boss, "agency:nta", recipient_key().certificate_pem)
    request = kojin.staff.request_bulk(boss, PURPOSE, 3, "agency:nta")
    kojin.staff.approve_bulk(other, request.bulk_id)
    with pytest.raises(KojinError) as caught:
        export_residents(kojin.register, kojin.staff, boss, request.bulk_id, PURPOSE)
    assert caught.value.code == "staff.wrong_role"
    assert kojin.staff.accesses_by("s.yamada") == []
