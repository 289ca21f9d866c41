"""The one export an approval allows: every person recorded, the file encrypted to the recipient, its hash kept."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.staff.domain import BulkRequest, BulkStatus, Organisation, Role, StaffPrincipal
from tests.staff.support import openssl_decrypt, recipient_key

CITY = Organisation.of("municipality", "131016")
PURPOSE = "国民健康保険の保険給付の支給又は保険料の徴収に関する事務"
NENKIN = "agency:nenkin"


def _login(kojin: Kojin, staff_id: str, role: Role) -> StaffPrincipal:
    if kojin.staff.roster.find(staff_id) is None:
        kojin.staff.register(staff_id, staff_id, CITY, role)
    return kojin.staff.check_token(kojin.staff.issue_token(staff_id).access_token)


def _rows(count: int) -> list[tuple[str, dict[str, object]]]:
    return [(str(i), {"resident_id": i, "name": f"住民 {i}"}) for i in range(1, count + 1)]


def _approved(kojin: Kojin, clerk: StaffPrincipal, rows: int) -> BulkRequest:
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    if kojin.staff.recipients.find(NENKIN) is None:
        kojin.staff.add_recipient(boss, NENKIN, recipient_key().certificate_pem)
    request = kojin.staff.request_bulk(clerk, PURPOSE, rows, NENKIN)
    return kojin.staff.approve_bulk(boss, request.bulk_id)


def _code(attempt: object) -> str:
    assert callable(attempt)
    with pytest.raises(KojinError) as caught:
        attempt()
    return caught.value.code


def test_an_export_is_recorded_encrypted_and_hashed(kojin: Kojin, tmp_path: Path) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    request = _approved(kojin, clerk, 30)
    rows = _rows(25)
    done = kojin.staff.export(clerk, request.bulk_id, PURPOSE, rows)
    assert done.status is BulkStatus.EXPORTED and done.export is not None
    assert kojin.staff.exports_dir is not None
    path = kojin.staff.exports_dir / done.export.file_name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = path.read_bytes()
    assert done.export.sha256 == hashlib.sha256(sealed).hexdigest()
    assert done.export.rows == 25
    assert kojin.staff.bulk_request(request.bulk_id) == done
    # Only the recipient's key opens it, and what it holds is the rows.
    assert b"resident_id" not in sealed
    lines = openssl_decrypt(path, recipient_key(), tmp_path).decode().splitlines()
    assert [json.loads(line) for line in lines] == [record for _, record in rows]
    # Every person exported is in the access log, as an export under the request.
    logged = kojin.staff.accesses_by("c.tanaka")
    assert [(a.person_key, a.what.value, a.count) for a in logged] == [(key, "export", 25) for key, _ in rows]
    assert [a.what.value for a in kojin.staff.accesses_of("7")] == ["export"]


def test_one_export_per_approval(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    request = _approved(kojin, clerk, 30)
    kojin.staff.export(clerk, request.bulk_id, PURPOSE, _rows(21))
    assert _code(lambda: kojin.staff.export(clerk, request.bulk_id, PURPOSE, _rows(21))) == "staff.bulk_used"
    assert _code(lambda: kojin.staff.check_export(clerk, request.bulk_id, PURPOSE)) == "staff.bulk_used"
    assert kojin.staff.exports_dir is not None
    assert len(list(kojin.staff.exports_dir.iterdir())) == 1
    assert len(kojin.staff.accesses_by("c.tanaka")) == 21


def test_an_export_needs_an_approval_even_of_a_few_people(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    kojin.staff.add_recipient(boss, NENKIN, recipient_key().certificate_pem)
    pending = kojin.staff.request_bulk(clerk, PURPOSE, 30, NENKIN)
    assert _code(lambda: kojin.staff.export(clerk, pending.bulk_id, PURPOSE, _rows(3))) == "staff.two_person_rule"
    assert kojin.staff.accesses_by("c.tanaka") == []


def test_an_export_beyond_its_approval_is_refused_and_nothing_is_written(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    colleague = _login(kojin, "c.suzuki", Role.COUNTER_CLERK)
    request = _approved(kojin, clerk, 22)
    bulk = request.bulk_id
    assert _code(lambda: kojin.staff.export(clerk, bulk, PURPOSE, _rows(23))) == "staff.two_person_rule"
    assert _code(lambda: kojin.staff.export(colleague, bulk, PURPOSE, _rows(22))) == "staff.two_person_rule"
    assert _code(lambda: kojin.staff.export(clerk, bulk, "転入届", _rows(22))) == "staff.two_person_rule"
    assert _code(lambda: kojin.staff.export(clerk, bulk, PURPOSE, [])) == "staff.nothing_to_export"
    assert kojin.staff.accesses_by("c.tanaka") == [] and kojin.staff.accesses_by("c.suzuki") == []
    assert kojin.staff.exports_dir is not None and not kojin.staff.exports_dir.exists()
    assert kojin.staff.bulk_request(bulk).status is BulkStatus.APPROVED
