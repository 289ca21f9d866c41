"""``kojin insurance …`` at an insurer's counter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kojin.entrypoints.cli import app
from tests.clinic.world import World
from tests.conftest import point_cli_at


def test_counter_work(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command finds the very stores of this test through the environment.
    point_cli_at(world.kojin, monkeypatch)
    runner = CliRunner()
    listed = runner.invoke(
        app, ["insurance", "members", "--insurer", "kyokai", "--purpose", "健康保険の保険給付の支給に関する事務"]
    )
    assert listed.exit_code == 0 and "保険" in listed.stdout
    taro = world.people["taro"]
    done = runner.invoke(app, ["insurance", "cancel-registration", "--insurer", "kyokai", "--local-id", taro.local_id])
    assert done.exit_code == 0, done.stderr
    out = tmp_path / "c.pdf"
    done = runner.invoke(
        app, ["insurance", "certificate", "--insurer", "kyokai", "--local-id", taro.local_id, "--out", str(out)]
    )
    assert done.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
    added = runner.invoke(
        app, ["insurance", "add-clinic", "--clinic-id", "1340511111", "--name", "本郷三丁目薬局", "--kind", "pharmacy"]
    )
    assert json.loads(added.stdout)["key"].startswith("kojin-clinic.1340511111.")
    bad = runner.invoke(
        app, ["insurance", "certificate", "--insurer", "kyokai", "--local-id", "M999", "--out", str(out)]
    )
    assert bad.exit_code == 2 and "insurer.unknown_member" in bad.stderr


def test_the_notice_from_the_terminal(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_cli_at(world.kojin, monkeypatch)
    runner = CliRunner()
    taro = world.people["taro"]
    out = tmp_path / "notice.pdf"
    done = runner.invoke(
        app, ["insurance", "notice", "--insurer", "kyokai", "--local-id", taro.local_id, "--out", str(out)]
    )
    assert done.exit_code == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    number = world.kojin.numbering.number_for(taro.juminhyo_code)
    assert number not in done.stdout + done.stderr
    unknown = runner.invoke(
        app, ["insurance", "notice", "--insurer", "kyokai", "--local-id", "M999999999", "--out", str(out)]
    )
    assert unknown.exit_code == 2 and "insurer.unknown_member" in unknown.stderr
    # Named operators: the insurer's own officer may make it, another insurer's may not.
    keys = {}
    for staff_id, org in (("o.kyokai", "insurer:kyokai"), ("o.kenpo", "insurer:kenpo_kojin")):
        added = runner.invoke(
            app, ["staff", "add", staff_id, "--name", "保険 係", "--org", org, "--role", "insurer_officer"]
        )
        assert added.exit_code == 0, added.stderr
        keys[staff_id] = str(tmp_path / f"{staff_id}.key")
        assert runner.invoke(app, ["staff", "operator-key", staff_id, "--out", keys[staff_id]]).exit_code == 0
    notice = ["insurance", "notice", "--insurer", "kyokai", "--local-id", taro.local_id, "--out", str(out)]
    refused = runner.invoke(app, ["--operator", keys["o.kenpo"], *notice])
    assert refused.exit_code == 2 and "staff.other_organisation" in refused.stderr
    own = runner.invoke(app, ["--operator", keys["o.kyokai"], *notice])
    assert own.exit_code == 0, own.stderr
