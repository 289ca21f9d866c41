from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from kojin.app import build
from kojin.core.config import Settings
from kojin.entrypoints.cli import app

ADD = [
    "resident",
    "add",
    "--name",
    "山田　太郎",
    "--kana",
    "ヤマダ　タロウ",
    "--sex",
    "1",
    "--birth-date",
    "1980-04-01",
    "--postal-code",
    "1130033",
    "--block",
    "4-15-14",
]


class Invoke(Protocol):
    def __call__(self, *args: str, input: str | None = None) -> Result: ...


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("KOJIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def test_help_lists_every_command(run: Invoke) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "up", "seed", "resident", "number", "corp"):
        assert command in result.output
    sub = run("resident", "--help")
    for command in ("add", "show", "list", "move", "move-out", "rename", "death"):
        assert command in sub.output


def test_up_serves_one_process(run: Invoke, tmp_path: Path) -> None:
    # Two workers would be two hubs: each reserving request ids in its own memory,
    # each appending to one log. Refused before anything is created or served.
    refused = run("up", "--workers", "2")
    assert refused.exit_code == 2
    assert "serve.one_worker" in refused.stderr and "workers" in refused.stderr
    assert not (tmp_path / "data").exists()


def test_add_show_list_json(run: Invoke) -> None:
    assert run("init").exit_code == 0
    added = run(*ADD, "--json")
    assert added.exit_code == 0, added.output
    record = json.loads(added.stdout)
    assert record["number_notice"].startswith("********")
    rid = record["resident_id"]
    shown = json.loads(
        run("resident", "show", str(rid), "--purpose", "住民票の写しの交付", "--json", "--history").stdout
    )
    assert shown["history"][0]["kind"] == "birth"
    lines = run("resident", "list", "--purpose", "住民票の写しの交付", "--json").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 1
    for key in (
        "resident_id",
        "name",
        "kana",
        "sex",
        "birth_date",
        "postal_code",
        "address",
        "household_id",
        "relationship",
        "status",
    ):
        assert key in rows[0]
    assert rows[0]["sex"] == "1" and rows[0]["address"] == "東京都文京区本郷4-15-14"


def test_changes(run: Invoke) -> None:
    rid = str(json.loads(run(*ADD, "--json").stdout)["resident_id"])
    assert run("resident", "move", rid, "--postal-code", "1120012", "--block", "1-2-3").exit_code == 0
    assert run("resident", "rename", rid, "--name", "山田　次郎", "--kana", "ヤマダ　ジロウ").exit_code == 0
    changed = run("number", "change", rid, "--reason", "漏えい")
    assert changed.exit_code == 0 and "********" in changed.stdout
    assert run("resident", "move-out", rid, "--destination", "大阪府大阪市").exit_code == 0
    refused = run("resident", "death", rid, "--effective-date", "2026-01-01")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "error resident.moved_out [resident_id]: この住民は転出済みです。"


def _code_of(data: Path, resident_id: int) -> str:
    """The 住民票コード as the person's papers give it (the CLI does not print it)."""
    kojin = build(Settings(data_dir=data))
    try:
        return kojin.register.get(resident_id).juminhyo_code
    finally:
        kojin.close()


def test_a_move_in_with_someone_elses_code_is_refused_at_the_terminal(run: Invoke, tmp_path: Path) -> None:
    added = json.loads(run(*ADD, "--json").stdout)
    rid, code = str(added["resident_id"]), _code_of(tmp_path / "data", added["resident_id"])
    assert run("resident", "move-out", rid, "--destination", "東京都新宿区").exit_code == 0
    shinjuku = ["--postal-code", "1600022", "--block", "1-1-1", "--municipality", "13104", "--kind", "move_in"]
    someone = ["--name", "佐藤　花子", "--kana", "サトウ　ハナコ", "--sex", "2", "--birth-date", "1990-07-07"]
    refused = run(*ADD[:2], *someone, *shinjuku, "--juminhyo-code", code)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error juminhyo_code.person_mismatch [juminhyo_code]: ")
    listed = run("resident", "list", "--municipality", "13104", "--purpose", "住民票の写しの交付", "--json")
    assert listed.stdout == ""
    # The person themself moves in with their code and keeps it.
    back = run(*ADD, *shinjuku, "--juminhyo-code", code, "--json")
    assert back.exit_code == 0, back.output
    assert _code_of(tmp_path / "data", json.loads(back.stdout)["resident_id"]) == code


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        (["--birth-date", "2021-02-30"], "birth_date.invalid", "birth_date"),
        (["--kana", "ﾔﾏﾀﾞ"], "kana.halfwidth", "kana"),
        (["--kana", "山田"], "kana.not_katakana", "kana"),
        (["--name", " "], "name.empty", "name"),
        (["--municipality", "99999"], "municipality_code.unknown", "municipality_code"),
        (["--postal-code", "1120012", "--town", "本郷"], "postal_code.mismatch", "postal_code"),
    ],
)
def test_errors_are_one_line_and_write_nothing(run: Invoke, args: list[str], code: str, field: str) -> None:
    result = run(*ADD, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error {code} [{field}]: ")
    assert run("resident", "list", "--purpose", "住民票の写しの交付", "--json").stdout == ""


def test_english(run: Invoke) -> None:
    result = run("--lang", "en", *ADD, "--kana", "ﾔﾏﾀﾞ")
    assert "half-width" in result.stderr


def test_number_validate(run: Invoke) -> None:
    assert run("number", "validate", "123456789018").exit_code == 0
    bad = run("number", "validate", "１２３４５６７８９０１８")
    assert bad.exit_code == 2 and "number.fullwidth" in bad.stderr
    assert run("number", "validate", "-", input="123456789017\n").exit_code == 2
    assert run("number", "validate", "--corporate", "7000012050002").exit_code == 0


def test_corp_commands(run: Invoke) -> None:
    added = run(
        "corp",
        "add",
        "--name",
        "株式会社こじん",
        "--furigana",
        "コジン",
        "--kind",
        "301",
        "--postal-code",
        "1130033",
        "--street",
        "1-1",
        "--json",
    )
    assert added.exit_code == 0, added.stderr
    number = json.loads(added.stdout)["corporateNumber"]
    assert json.loads(run("corp", "show", number, "--json").stdout)["name"] == "株式会社こじん"
    found = run("corp", "search", "こじん", "--mode", "2", "--json").stdout.splitlines()
    assert len(found) == 1


def test_card_commands(run: Invoke, tmp_path: Path) -> None:
    rid = str(json.loads(run(*ADD, "--json").stdout)["resident_id"])
    issued = run(
        "card", "issue", "--resident", rid, "--pin", "1234", "--password", "ABC123", "--algorithm", "p256", "--json"
    )
    assert issued.exit_code == 0, issued.stderr
    card = json.loads(issued.stdout)
    assert card["auth_certificate"] == "good" and card["pin_tries_left"]["auth"] == 3
    assert run("card", "list").stdout.split() == [card["card_id"]]
    ok = run("card", "auth", card["card_id"], "--pin", "1234", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["serial"] == card["auth_serial"]
    wrong = run("card", "auth", card["card_id"], "--pin", "0000")
    assert wrong.exit_code == 2 and wrong.stderr.startswith("error card.pin_wrong [pin]")
    reset = run("card", "reset-pin", card["card_id"], "--new-pin", "5678", "--json")
    assert json.loads(reset.stdout)["pin_tries_left"]["auth"] == 3
    prompted = run("card", "auth", card["card_id"], input="5678\n")
    assert prompted.exit_code == 0
    revoked = json.loads(run("card", "revoke", card["card_id"], "--json").stdout)
    assert revoked["status"] == "lost" and revoked["auth_certificate"] == "revoked"
    assert run("pki", "export", "--out", str(tmp_path / "ca")).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "ca").iterdir()) == ["auth.pem", "root.pem", "sign.pem"]
    assert run("pki", "crl", "--ca", "auth").stdout.startswith("-----BEGIN X509 CRL-----")
    bad = run("card", "issue", "--resident", rid, "--pin", "12", "--password", "ABC123")
    assert bad.exit_code == 2 and "card.pin_format" in bad.stderr


def test_the_card_follows_the_register(run: Invoke) -> None:
    rid = str(json.loads(run(*ADD, "--json").stdout)["resident_id"])
    issued = run(
        "card", "issue", "--resident", rid, "--pin", "1234", "--password", "ABC123", "--algorithm", "p256", "--json"
    )
    card_id = json.loads(issued.stdout)["card_id"]
    assert json.loads(issued.stdout)["chip_stale"] is False
    assert run("resident", "move", rid, "--postal-code", "1120012", "--block", "1-2-3").exit_code == 0
    assert (
        json.loads(run("card", "status", card_id, "--purpose", "個人番号カードの交付", "--json").stdout)["chip_stale"]
        is True
    )
    rewritten = run("card", "rewrite", card_id, "--json")
    assert rewritten.exit_code == 0, rewritten.stderr
    assert json.loads(rewritten.stdout)["chip_stale"] is False
    changed = run("number", "change", rid, "--reason", "漏えい")
    assert changed.exit_code == 0 and f"カード {card_id} は返納が必要です" in changed.stdout
    assert (
        json.loads(run("card", "status", card_id, "--purpose", "個人番号カードの交付", "--json").stdout)["status"]
        == "to_return"
    )
    # The holder can still prove who they are (and read why at the portal) …
    assert run("card", "auth", card_id, "--pin", "1234").exit_code == 0
    # … but the counter will not rewrite a card that must go back.
    refused = run("card", "rewrite", card_id)
    assert refused.exit_code == 2 and "card.must_return" in refused.stderr


def test_audit_reindex_runs_as_the_local_administrator(run: Invoke) -> None:
    assert run("init").exit_code == 0
    done = run("audit", "reindex")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.splitlines()[-1]) == {"scanned": 0, "about_someone": 0, "added": 0}
