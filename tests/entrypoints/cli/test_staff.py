"""``kojin staff`` and the operator every command acts as: key files, purposes, the two-person rule."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from kojin.app import Kojin
from kojin.entrypoints.cli import app
from kojin.staff.domain import Role
from tests.entrypoints.cli.test_cli import ADD
from tests.staff.support import openssl_decrypt, recipient_key

PURPOSE = ["--purpose", "住民票の写しの交付"]


class Invoke(Protocol):
    def __call__(self, *args: str, input: str | None = None) -> Result: ...


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("KOJIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KOJIN_OPERATOR", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def _added(run: Invoke, *extra: str) -> str:
    added = run(*extra, *ADD, "--json")
    assert added.exit_code == 0, added.output
    return str(json.loads(added.stdout)["resident_id"])


def test_init_makes_the_local_administrators_key_readable_by_its_owner_only(run: Invoke, tmp_path: Path) -> None:
    assert run("init").exit_code == 0
    key = tmp_path / "data" / "operator.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    os.chmod(key, 0o644)
    refused = run(*ADD)
    assert refused.exit_code == 2 and "staff.operator_key_open" in refused.stderr


def test_a_read_of_one_person_states_its_purpose_and_is_recorded_under_the_operator(run: Invoke) -> None:
    rid = _added(run)
    missing = run("resident", "show", rid)
    assert missing.exit_code == 2 and "staff.purpose_required [purpose]" in missing.stderr
    unknown = run("resident", "show", rid, "--purpose", "興味本位")
    assert unknown.exit_code == 2 and "staff.unknown_purpose" in unknown.stderr
    assert run("resident", "show", rid, *PURPOSE).exit_code == 0
    seen = [json.loads(line) for line in run("staff", "accesses", "--staff", "admin", "--json").stdout.splitlines()]
    assert [(s["purpose"], s["what"]) for s in seen] == [("出生届", "write"), ("住民票の写しの交付", "read")]
    assert all(s["staff"] == "この端末の管理者 (admin)" for s in seen)


def test_a_named_operator_acts_only_within_their_role_and_municipality(run: Invoke, tmp_path: Path) -> None:
    rid = _added(run)
    assert (
        run(
            "staff", "add", "c.sato", "--name", "佐藤 一郎", "--org", "municipality:13101", "--role", "counter_clerk"
        ).exit_code
        == 0
    )
    assert (
        run(
            "staff", "add", "c.ito", "--name", "伊藤 花子", "--org", "municipality:13105", "--role", "counter_clerk"
        ).exit_code
        == 0
    )
    for staff_id in ("c.sato", "c.ito"):
        assert run("staff", "operator-key", staff_id, "--out", str(tmp_path / f"{staff_id}.key")).exit_code == 0
    other = run("--operator", str(tmp_path / "c.sato.key"), "resident", "show", rid, *PURPOSE)
    assert other.exit_code == 2 and "staff.other_organisation" in other.stderr
    own = run("--operator", str(tmp_path / "c.ito.key"), "resident", "show", rid, *PURPOSE)
    assert own.exit_code == 0, own.stderr
    # A clerk is no auditor, and may not register staff.
    assert "staff.wrong_role" in run("--operator", str(tmp_path / "c.ito.key"), "staff", "refusals").stderr
    # A replaced key stops working.
    assert run("staff", "operator-key", "c.ito", "--out", str(tmp_path / "new.key")).exit_code == 0
    stale = run("--operator", str(tmp_path / "c.ito.key"), "resident", "show", rid, *PURPOSE)
    assert stale.exit_code == 2 and "staff.operator_key_replaced" in stale.stderr


def test_listing_more_than_twenty_needs_a_second_person(run: Invoke) -> None:
    assert run("seed", "--residents", "30").exit_code == 0
    refused = run("resident", "list", "--limit", "21", *PURPOSE, "--json")
    assert refused.exit_code != 0 and "staff.two_person_rule" in refused.stderr
    assert refused.stdout == ""
    shown = run("resident", "list", "--limit", "20", *PURPOSE, "--json")
    assert len(shown.stdout.splitlines()) == 20


def test_purposes_lists_counter_and_exchange_tasks(run: Invoke) -> None:
    listed = run("staff", "purposes", "--json").stdout.splitlines()
    names = {json.loads(line)["purpose"] for line in listed}
    assert {"住民票の写しの交付", "児童手当の支給に関する事務"} <= names


def test_the_two_person_rule_at_the_terminal_ends_in_a_file_only_the_recipient_opens(
    run: Invoke, tmp_path: Path
) -> None:
    assert run("seed", "--residents", "30").exit_code == 0
    people = [
        ("c.ito", "伊藤 花子", "counter_clerk"),
        ("s.kato", "加藤 次郎", "supervisor"),
        ("s.mori", "森 三郎", "supervisor"),
    ]
    for staff_id, name, role in people:
        assert (
            run("staff", "add", staff_id, "--name", name, "--org", "municipality:13105", "--role", role).exit_code == 0
        )
        assert run("staff", "operator-key", staff_id, "--out", str(tmp_path / f"{staff_id}.key")).exit_code == 0

    def as_(staff_id: str, *args: str) -> Result:
        return run("--operator", str(tmp_path / f"{staff_id}.key"), *args)

    key = recipient_key()
    (tmp_path / "cert.pem").write_text(key.certificate_pem)
    added = as_("s.kato", "staff", "recipient", "add", "nenkin-export", "--cert", str(tmp_path / "cert.pem"), "--json")
    assert added.exit_code == 0, added.stderr
    made = as_("c.ito", "staff", "bulk", "request", "--rows", "25", "--recipient", "nenkin-export", *PURPOSE, "--json")
    assert made.exit_code == 0, made.stderr
    bulk_id = str(json.loads(made.stdout)["bulk_id"])

    refused = as_("c.ito", "resident", "export", "--bulk-id", bulk_id, *PURPOSE)
    assert refused.exit_code != 0 and "staff.two_person_rule" in refused.stderr
    own = as_("c.ito", "staff", "bulk", "approve", bulk_id)
    assert own.exit_code != 0 and "staff.two_person_rule" in own.stderr
    assert as_("s.mori", "staff", "bulk", "approve", bulk_id).exit_code == 0

    listed = as_("c.ito", "resident", "list", "--limit", "25", "--bulk-id", bulk_id, *PURPOSE, "--json")
    assert len(listed.stdout.splitlines()) == 25
    exported = as_("c.ito", "resident", "export", "--bulk-id", bulk_id, *PURPOSE, "--json")
    assert exported.exit_code == 0, exported.stderr
    done = json.loads(exported.stdout)
    plain = openssl_decrypt(Path(done["file"]), key, tmp_path)
    assert len(plain.decode().splitlines()) == done["rows"] == 25
    again = as_("c.ito", "resident", "export", "--bulk-id", bulk_id, *PURPOSE)
    assert again.exit_code != 0 and "staff.bulk_used" in again.stderr


def test_a_staff_card_logs_in_to_a_remote_deployment_for_a_bearer_token(
    kojin: Kojin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from kojin.demo.staff import seed_demo_staff
    from tests.e2e.conftest import LiveServer
    from tests.portal.helpers import resident

    person = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    clerk = next(m for m in seed_demo_staff(kojin) if m.role is Role.COUNTER_CLERK)
    monkeypatch.setenv("KOJIN_DATA_DIR", str(kojin.settings.data_dir))  # where the card file is
    runner = CliRunner()
    with LiveServer(kojin) as server:
        wrong = runner.invoke(app, ["staff", "token", clerk.card_id, "--url", server.url, "--pin", "9999"])
        assert wrong.exit_code == 2 and "card.pin_wrong" in wrong.stderr  # the card itself says no
        token_file = tmp_path / "token"
        done = runner.invoke(
            app, ["staff", "token", clerk.card_id, "--url", server.url, "--pin", clerk.pin, "--out", str(token_file)]
        )
        assert done.exit_code == 0, done.stderr
        assert token_file.stat().st_mode & 0o777 == 0o600
        headers = {"authorization": f"Bearer {token_file.read_text()}"}
        read = httpx.get(
            f"{server.url}/registry/residents/{person.resident_id}",
            params={"purpose": "住民票の写しの交付"},
            headers=headers,
        )
        assert read.status_code == 200 and read.json()["kana"] == "ヤマダ　タロウ"
        kojin.staff.revoke_card(clerk.staff_id)  # the card is lost: its token and its next login fail
        assert httpx.get(f"{server.url}/registry/residents/{person.resident_id}", headers=headers).status_code == 401
        again = runner.invoke(app, ["staff", "token", clerk.card_id, "--url", server.url, "--pin", clerk.pin])
        assert again.exit_code == 2 and "staff.token_refused" in again.stderr
