"""``kojin dispute``: only a supervisor of the deciding office decides a disputed link, and the decision takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from kojin.entrypoints.cli import app
from kojin.entrypoints.http.app import create_app
from kojin.portal.domain import DisputeState
from tests.clinic.world import World
from tests.conftest import point_cli_at
from tests.portal.helpers import Browser
from tests.portal.test_disputes import dispute


def _operator(runner: CliRunner, tmp_path: Path, staff_id: str, org: str, role: str) -> Path:
    added = runner.invoke(app, ["staff", "add", staff_id, "--name", "監督　一郎", "--org", org, "--role", role])
    assert added.exit_code == 0, added.stderr
    key = tmp_path / f"{staff_id}.key"
    assert runner.invoke(app, ["staff", "operator-key", staff_id, "--out", str(key)]).exit_code == 0
    return key


def test_only_a_jlis_supervisor_resolves_and_the_card_works_again(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kojin = world.kojin
    point_cli_at(kojin, monkeypatch)
    runner = CliRunner()
    taro = world.people["taro"]
    assert taro.card_id is not None
    browser = Browser(create_app(kojin))
    browser.login(taro.card_id)
    dispute(browser, kojin.eligibility.insurer("kyokai").name, "加入した覚えがありません")
    (pending,) = kojin.portal.disputes.pending()
    resolve = ["dispute", "resolve", str(pending.dispute_id), "--outcome", "confirmed", "--note", "加入記録と一致"]

    def as_op(key: Path, *args: str) -> Result:
        return runner.invoke(app, ["--operator", str(key), *args])

    clerk = _operator(runner, tmp_path, "c.ito", "municipality:13105", "counter_clerk")
    refused = as_op(clerk, *resolve)
    assert refused.exit_code == 2 and "staff.wrong_role" in refused.stderr
    town = _operator(runner, tmp_path, "s.town", "municipality:13105", "supervisor")
    refused = as_op(town, *resolve)
    assert refused.exit_code == 2 and "staff.other_organisation" in refused.stderr
    assert as_op(town, "dispute", "list").stdout == ""  # not theirs to decide
    assert kojin.portal.disputes.get(pending.dispute_id).state is DisputeState.OPEN

    jlis = _operator(runner, tmp_path, "s.jlis", "jlis", "supervisor")
    listed = [json.loads(line) for line in as_op(jlis, "dispute", "list").stdout.splitlines()]
    assert [d["dispute_id"] for d in listed] == [pending.dispute_id] and "code" not in listed[0]
    bad = as_op(jlis, "dispute", "resolve", str(pending.dispute_id), "--outcome", "maybe", "--note", "")
    assert bad.exit_code == 2 and "portal.dispute_bad_outcome" in bad.stderr
    done = as_op(jlis, *resolve)
    assert done.exit_code == 0, done.stderr
    decided = kojin.portal.disputes.get(pending.dispute_id)
    assert decided.state is DisputeState.CONFIRMED
    assert (decided.resolved_by, decided.resolver_org, decided.resolution_note) == ("s.jlis", "jlis", "加入記録と一致")
    assert as_op(jlis, *resolve).exit_code == 2  # decided once

    kojin.hub.reload_disputes()  # the command ran as another process would; this one reads within a second
    check = kojin.clinics.check_card(world.clinic, *world.card_answer("taro"))
    assert check.answer["result_code"] == "eligibility.valid"
    # The supervisor's write about the person is on the person's own page, as an office and a role.
    assert kojin.portal.staff_looks is not None
    looks = kojin.portal.staff_looks.of(kojin.register.get(taro.resident_id))
    assert any(look.purpose == "ひも付けの誤りの申し出の確認" for look in looks)
