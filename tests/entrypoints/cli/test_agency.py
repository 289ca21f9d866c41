"""``kojin agency list | code | copy | copies | ask | log`` as an operator would run them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.core.i18n import language
from kojin.entrypoints.cli import app
from kojin.numbering.domain import make_juminhyo_code
from kojin.registry.domain import Address, PersonDetails, Sex

ALICE = PersonDetails(
    "鈴木　亜里沙", "スズキ　アリサ", Sex.FEMALE, date(1985, 2, 11), Address("1130033", "", "", "", "4-15-14")
)
ALICE_ITEMS = ["--name", ALICE.name, "--sex", "2", "--birth-date", "1985-02-11", "--address", "東京都文京区本郷4-15-14"]


@pytest.fixture(autouse=True)
def _language_stays_in_this_test() -> Iterator[None]:
    # The CLI sets the language of the thread it runs in; CliRunner runs it in
    # the test's own thread, so undo that for the tests after this one.
    with language("ja"):
        yield


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data directory the CLI works on (SQLite), as after `kojin init`."""
    directory = tmp_path / "data"
    monkeypatch.setenv("KOJIN_DATA_DIR", str(directory))
    monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
    return directory


@contextmanager
def demo_kojin(data: Path) -> Iterator[Kojin]:
    """The same stores opened by the test itself, with the demo agencies."""
    from kojin.demo.agencies import ensure_demo_agencies

    kojin = build(Settings(data_dir=data))
    try:
        ensure_demo_agencies(kojin)
        yield kojin
    finally:
        kojin.close()


def test_list_code_copy_log(tmp_path: Path, data: Path) -> None:
    runner = CliRunner()

    listed = runner.invoke(app, ["agency", "list", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert {json.loads(line)["agency_id"] for line in listed.stdout.splitlines()} >= {"13105", "13104", "nta"}
    table = runner.invoke(app, ["agency", "list"], catch_exceptions=False)
    assert "文京区長" in table.stdout

    kojin = build(Settings(data_dir=data))
    try:
        number = kojin.register.register(ALICE, municipality_code="13105").number_notice
    finally:
        kojin.close()

    codes = {}
    for agency in ("13105", "13104"):
        got = runner.invoke(app, ["agency", "code", "--agency", agency, *ALICE_ITEMS, "--json"], input=number + "\n")
        assert got.exit_code == 0, got.output
        assert number not in got.output
        codes[agency] = json.loads(got.stdout)["code"]
    assert codes["13105"] != codes["13104"]

    payload = tmp_path / "tax.json"
    payload.write_text(json.dumps({"taxable_income": 4_100_000}), encoding="utf-8")
    copied = runner.invoke(
        app,
        [
            "agency",
            "copy",
            "--agency",
            "13104",
            "--code",
            codes["13104"],
            "--item",
            "地方税関係情報",
            "--json-file",
            str(payload),
        ],
    )
    assert copied.exit_code == 0, copied.output

    kojin = build(Settings(data_dir=data))
    try:
        result = kojin.agencies.client("13105").request(
            "13104", "児童手当の支給に関する事務", "地方税関係情報", code=codes["13105"]
        )
        assert result.payload == {"taxable_income": 4_100_000}
    finally:
        kojin.close()
    logged = runner.invoke(app, ["agency", "log", "--agency", "13104"])
    (entry,) = [json.loads(line) for line in logged.stdout.splitlines()]
    assert entry["role"] == "provider" and entry["requester"] == "文京区長" and entry["withheld"] is False

    # Mistakes end in one line with the reason, and exit 2.
    for args, stdin, reason in (
        (["agency", "code", "--agency", "nobody", *ALICE_ITEMS], number, "hub.unknown_agency"),
        (["agency", "code", "--agency", "13105", *ALICE_ITEMS], "", "number.missing"),
        (["agency", "code", "--agency", "13105", *ALICE_ITEMS], "123456789012", "number.check_digit"),
        (
            [
                "agency",
                "copy",
                "--agency",
                "13104",
                "--code",
                codes["13104"],
                "--item",
                "好きな情報",
                "--json-file",
                str(payload),
            ],
            None,
            "agency.unknown_item",
        ),
        (
            [
                "agency",
                "copy",
                "--agency",
                "13104",
                "--code",
                codes["13104"],
                "--item",
                "地方税関係情報",
                "--json-file",
                str(tmp_path / "missing.json"),
            ],
            None,
            "agency.unreadable_file",
        ),
    ):
        bad = runner.invoke(app, args, input=stdin)
        assert bad.exit_code == 2, (args, bad.output)
        assert bad.stderr.startswith(f"error {reason}"), bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_a_family_members_number_is_refused_at_the_terminal(data: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["agency", "list", "--json"]).exit_code == 0  # kojin init, demo agencies
    kojin = build(Settings(data_dir=data))
    try:
        mother = kojin.register.register(ALICE, municipality_code="13105")
        son = PersonDetails("鈴木　翔", "スズキ　ショウ", Sex.MALE, date(2014, 8, 1), ALICE.address)
        kojin.register.register(
            son, municipality_code="13105", household_id=mother.resident.household_id, relationship="子"
        )
    finally:
        kojin.close()
    sons_items = ["--name", son.name, "--kana", son.kana, "--sex", "1", "--birth-date", "2014-08-01"]
    sons_items += ["--address", "東京都文京区本郷4-15-14"]
    bad = runner.invoke(app, ["agency", "code", "--agency", "13105", *sons_items], input=mother.number_notice + "\n")
    assert bad.exit_code == 2, bad.output
    assert bad.stderr.startswith("error number.person_mismatch"), bad.stderr
    assert mother.number_notice not in bad.output
    kojin = build(Settings(data_dir=data))
    try:
        [refusal] = kojin.staff.refusals.recent()
        assert (refusal.code, refusal.method, refusal.path) == ("number.person_mismatch", "CLI", "kojin agency code")
        assert kojin.agencies.get("13105").counts()["people"] == 0
    finally:
        kojin.close()


def test_ask_sends_a_file_of_requests_as_batches(tmp_path: Path, data: Path) -> None:
    import csv
    import socket

    from kojin.agency.domain import CopyEntry

    with demo_kojin(data) as kojin:
        for i in range(3):
            number = kojin.numbering.assign(make_juminhyo_code(f"{i + 20:010d}"))
            kojin.agencies.obtain_code_unverified("13105", number, f"A-{i}")
            theirs, _ = kojin.agencies.obtain_code_unverified("13104", number)
            if i < 2:
                kojin.agencies.get("13104").update_copies([CopyEntry(theirs, "地方税関係情報", {"income": i})])
    task, tax = "児童手当の支給に関する事務", "地方税関係情報"
    asks = tmp_path / "asks.csv"
    asks.write_text(
        f"provider,task,item,local_id\n13104,{task},{tax},A-0\n13104,{task},{tax},A-1\n13104,{task},{tax},A-2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    runner = CliRunner()
    done = runner.invoke(
        app, ["agency", "ask", "--agency", "13105", "--requests", str(asks), "--out", str(out), "--batch", "3"]
    )
    assert done.exit_code == 0, done.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["outcome"], r["error"]) for r in rows] == [
        ("2", "answered", ""),
        ("3", "answered", ""),
        ("4", "no_data", ""),
    ]
    assert json.loads(rows[1]["payload"]) == {"income": 1} and rows[0]["leaf_index"] != rows[1]["leaf_index"]
    assert "answered: 2" in done.stdout

    # From an agency's own terminal: the same file over HTTP to a running hub.
    from tests.e2e.conftest import LiveServer

    served = build(Settings(data_dir=data))
    try:
        with LiveServer(served) as server:
            remote = runner.invoke(
                app,
                [
                    "agency",
                    "ask",
                    "--agency",
                    "13105",
                    "--requests",
                    str(asks),
                    "--out",
                    str(out),
                    "--hub-url",
                    server.url,
                ],
            )
    finally:
        served.close()
    assert remote.exit_code == 0, remote.output
    with out.open(encoding="utf-8") as handle:
        over_http = list(csv.DictReader(handle))
    assert [(r["outcome"], r["payload"]) for r in over_http] == [(r["outcome"], r["payload"]) for r in rows]
    # A hub that does not answer: the run stops with the reason, and the file says which rows were not asked.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = runner.invoke(
        app,
        [
            "agency",
            "ask",
            "--agency",
            "13105",
            "--requests",
            str(asks),
            "--out",
            str(out),
            "--hub-url",
            dead,
            "--batch",
            "2",
        ],
    )
    assert down.exit_code == 2 and "hub.unavailable" in down.stderr, down.output
    with out.open(encoding="utf-8") as handle:
        assert [(r["outcome"], r["error"]) for r in csv.DictReader(handle)] == [
            ("unknown", "hub.unavailable"),
            ("unknown", "hub.unavailable"),
            ("not_asked", "hub.unavailable"),
        ]

    # A bad row stops the run before anything is asked, with its line number; no output is written.
    logged = runner.invoke(app, ["agency", "log", "--agency", "13105", "--limit", "1000"])
    before = len(logged.stdout.splitlines())
    for text, reason in (
        (f"provider,task,item,local_id\n13104,{task},{tax},A-0\n13104,{task},{tax},nobody\n", "3行目"),
        (f"provider,task,item,local_id,code\n13104,{task},{tax},A-0,XYZ\n", "2行目"),
        (f"provider,task,item\n13104,{task},{tax}\n", "local_id"),
        ("provider,task,item,local_id\n", "一件も"),
        # What the hub could only refuse is refused here, before anything is sent.
        (f"provider,task,item,local_id\n13104,{task},{tax},A-0\n13104,{task},年金給付関係情報,A-0\n", "3行目の task"),
        (f"provider,task,item,local_id\n13104,{task},{tax},A-0\n13104,好きな事務,{tax},A-1\n", "3行目の task"),
        (f"provider,task,item,local_id\n99999,{task},{tax},A-0\n", "2行目の provider"),
    ):
        asks.write_text(text, encoding="utf-8")
        out.unlink(missing_ok=True)
        bad = runner.invoke(app, ["agency", "ask", "--agency", "13105", "--requests", str(asks), "--out", str(out)])
        assert bad.exit_code == 2 and "agency.bad_requests" in bad.stderr and reason in bad.stderr, bad.output
        assert not out.exists()
    logged = runner.invoke(app, ["agency", "log", "--agency", "13105", "--limit", "1000"])
    assert len(logged.stdout.splitlines()) == before


def test_copies_from_business_data_in_one_go(tmp_path: Path, data: Path) -> None:
    with demo_kojin(data) as kojin:
        codes = []
        for i in range(2):
            number = kojin.numbering.assign(make_juminhyo_code(f"{i + 40:010d}"))
            codes.append(kojin.agencies.obtain_code_unverified("13104", number, f"S-{i}")[0])
    lines = tmp_path / "copies.jsonl"
    good = [
        {"local_id": "S-0", "item": "地方税関係情報", "payload": {"income": 1}},
        {"code": codes[1], "item": "地方税関係情報", "payload": {"income": 2}, "withheld": True},
    ]
    lines.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in good) + "\n\n", encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(app, ["agency", "copies", "--agency", "13104", "--jsonl", str(lines)])
    assert done.exit_code == 0, done.output
    assert "2" in done.stdout

    def copies() -> dict[str, tuple[object, bool]]:
        k = build(Settings(data_dir=data), migrate=False)
        try:
            found = {c: k.agencies.get("13104").copy(c, "地方税関係情報") for c in codes}
            return {c: (e.payload, e.withheld) for c, e in found.items() if e is not None}
        finally:
            k.close()

    assert copies() == {codes[0]: ({"income": 1}, False), codes[1]: ({"income": 2}, True)}
    # The first bad line is named, and nothing of the file is registered.
    for bad_line, reason in (
        ({"local_id": "S-0", "item": "好きな情報", "payload": {}}, "item"),
        ({"local_id": "nobody", "item": "地方税関係情報", "payload": {}}, "local_id"),
        ({"local_id": "S-0", "code": codes[0], "item": "地方税関係情報", "payload": {}}, "local_id"),
        ({"local_id": "S-0", "item": "地方税関係情報"}, "payload"),
        ({"local_id": "S-0", "item": "地方税関係情報", "payload": {}, "note": 1}, "note"),
    ):
        first = {"local_id": "S-0", "item": "地方税関係情報", "payload": {"income": 99}}
        lines.write_text(
            json.dumps(first, ensure_ascii=False) + "\n" + json.dumps(bad_line, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        refused = runner.invoke(app, ["agency", "copies", "--agency", "13104", "--jsonl", str(lines)])
        assert refused.exit_code == 2 and "agency.bad_copies" in refused.stderr, refused.output
        assert "2行目" in refused.stderr and reason in refused.stderr, refused.stderr
    lines.write_text("not json\n", encoding="utf-8")
    assert "1行目" in runner.invoke(app, ["agency", "copies", "--agency", "13104", "--jsonl", str(lines)]).stderr
    # Nested deeper than any copy (and than Python's parser can recurse): refused by line, no traceback.
    for depth in (65, 5000):
        deep = '{"local_id": "S-0", "item": "地方税関係情報", "payload": ' + "[" * depth + "]" * depth + "}"
        lines.write_text(deep + "\n", encoding="utf-8")
        refused = runner.invoke(app, ["agency", "copies", "--agency", "13104", "--jsonl", str(lines)])
        assert refused.exit_code == 2 and "agency.bad_copies" in refused.stderr, refused.output
        assert "1行目" in refused.stderr and "入れ子" in refused.stderr, refused.stderr
    assert copies() == {codes[0]: ({"income": 1}, False), codes[1]: ({"income": 2}, True)}


def test_copies_encoding_and_json_values(tmp_path: Path, data: Path) -> None:
    with demo_kojin(data) as kojin:
        number = kojin.numbering.assign(make_juminhyo_code(f"{50:010d}"))
        kojin.agencies.obtain_code_unverified("13104", number, "S-0")
    lines = tmp_path / "copies.jsonl"
    runner = CliRunner()

    def run() -> tuple[int, str]:
        result = runner.invoke(app, ["--lang", "en", "agency", "copies", "--agency", "13104", "--jsonl", str(lines)])
        return result.exit_code, result.stderr

    record = {"local_id": "S-0", "item": "地方税関係情報", "payload": {"note": "所得"}}
    text = json.dumps(record, ensure_ascii=False) + "\n"
    # A byte-order mark (Excel's and Notepad's "UTF-8") is not part of the first line.
    lines.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert run()[0] == 0
    # Shift_JIS is said to be what it is, with its line.
    lines.write_bytes(text.encode() + text.encode("shift_jis"))
    code, err = run()
    assert code == 2 and "agency.bad_copies" in err and "line 2" in err and "not UTF-8" in err, err
    # NaN and Infinity are not JSON; a deep nest is refused, not a crash.
    for payload, said in (("NaN", "NaN is not a JSON value"), ("-Infinity", "-Infinity is not a JSON value")):
        lines.write_text(f'{{"local_id": "S-0", "item": "地方税関係情報", "payload": {{"x": {payload}}}}}\n')
        code, err = run()
        assert code == 2 and said in err, err
    lines.write_text('{"local_id": "S-0", "item": "地方税関係情報", "payload": ' + "[" * 100_000 + "\n")
    code, err = run()
    assert code == 2 and "agency.bad_copies" in err, err
