"""``kojin agency …``: the agencies' side of information linkage from a terminal.

``code`` reads the individual number from standard input so it never appears
in the shell history or the process list, and it is never printed back.
``ask`` sends a file of requests as batches (一括照会) and writes the answers.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from kojin.agency import reasons as agency_reasons
from kojin.agency.client import HttpHub
from kojin.agency.domain import Ask, CopyEntry, ExchangeResult, payload_json, validate_item
from kojin.agency.service import AgencyService
from kojin.app import Kojin
from kojin.core import json_depth
from kojin.core.errors import InvalidInput, KojinError
from kojin.core.files import atomic_write
from kojin.core.i18n import pick
from kojin.core.json_depth import MAX_JSON_DEPTH, too_deep
from kojin.entrypoints.cli.console import err_console, progress
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import print_json, with_system
from kojin.hub.domain import AGENCY_KIND_LABELS, BATCH_MAX, AgencyKind, permitted_exchanges
from kojin.numbering import reasons as numbering_reasons
from kojin.registry.identity import claim_of
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal

console = Console()
_MAX_JSON_BYTES = 1024 * 1024


def _officer(kojin: Kojin, agency: str, *roles: Role) -> StaffPrincipal:
    """The operator, shown to be an officer of ``agency`` (the agency must exist)."""
    kojin.hub.agency(agency, field="agency")
    return act_as(kojin, roles or [Role.AGENCY_OFFICER], Organisation(OrganisationKind.AGENCY, agency))


agency_app = typer.Typer(
    help="機関・中間サーバー — agencies, their codes (機関別符号) and copies (副本).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@agency_app.command("list")
def agency_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """List the agencies registered at the hub."""

    def action(kojin: Kojin) -> None:
        entries = kojin.hub.agencies()
        if as_json:
            for entry in entries:
                print_json(entry.public_record())
            return
        table = Table("id", pick("名称", "name"), pick("種別", "kind"))
        for entry in entries:
            ja, en = AGENCY_KIND_LABELS[entry.kind]
            table.add_row(entry.agency_id, entry.name, pick(ja, en))
        console.print(table)

    with_system(action, demo_agencies=True)


@agency_app.command("code")
def agency_code(
    agency: Annotated[str, typer.Option("--agency", help="The agency asking for its code.")],
    name: Annotated[str, typer.Option(help="The member's 氏名, as the agency holds it.")],
    sex: Annotated[str, typer.Option(help="The member's sex: 1 male, 2 female.")],
    birth_date: Annotated[str, typer.Option(help="The member's birth date, YYYY-MM-DD.")],
    address: Annotated[str, typer.Option(help="The member's address on one line.")],
    kana: Annotated[str, typer.Option(help="The member's フリガナ, when the agency holds it.")] = "",
    local_id: Annotated[str | None, typer.Option(help="The agency's own id for the person (宛名番号).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Obtain the agency's code (機関別符号) for a member; the number is read from standard input.

    J-LIS compares the member's four basic items with the number's holder and
    refuses another person's number (number.person_mismatch); the refusal is
    recorded with the operator's refused attempts.
    """

    def action(kojin: Kojin) -> None:
        principal = _officer(kojin, agency)
        member = claim_of(name, kana, sex, birth_date, address)
        number = sys.stdin.readline().strip()
        if not number:
            raise numbering_reasons.NUMBER_MISSING.error()
        try:
            code, local = kojin.agencies.obtain_code(agency, number, member, local_id)
        except KojinError as exc:
            kojin.staff.refusals.record(kojin.staff.now(), "CLI", "kojin agency code", exc.code, principal)
            raise
        kojin.staff.record_access(principal, code, "機関別符号の取得", "write")
        if as_json:
            print_json({"agency_id": agency, "code": code, "local_id": local})
        else:
            console.print(f"{pick('機関別符号', 'code')}: {code}  {pick('宛名番号', 'local id')}: {local}")

    with_system(action, demo_agencies=True)


@agency_app.command("copy")
def agency_copy(
    agency: Annotated[str, typer.Option("--agency", help="The agency whose intermediate server keeps the copy.")],
    code: Annotated[str, typer.Option("--code", help="The agency's own code for the person.")],
    item: Annotated[str, typer.Option("--item", help="The information item, e.g. 地方税関係情報.")],
    json_file: Annotated[Path, typer.Option("--json-file", help="The copy's content as JSON (- for stdin).")],
    withheld: Annotated[bool, typer.Option("--withheld", help="Do not disclose it (不開示).")] = False,
) -> None:
    """Register or replace a copy (副本) in the agency's intermediate server."""

    def action(kojin: Kojin) -> None:
        principal = _officer(kojin, agency)
        payload = _read_json(json_file)
        server = kojin.agencies.intermediate(agency)
        assert server is not None
        entries = [CopyEntry(code, item, payload, withheld)]
        validate_item(item)
        kojin.staff.record_access(principal, code, "副本の登録", "write")
        server.update_copies(entries)
        console.print(pick("副本を登録しました。", "copy registered."))

    with_system(action, demo_agencies=True)


@agency_app.command("copies")
def agency_copies(
    agency: Annotated[str, typer.Option("--agency", help="The agency whose intermediate server keeps the copies.")],
    jsonl: Annotated[
        Path,
        typer.Option(
            "--jsonl",
            help=("JSON lines from the agency's business data: local_id (宛名番号) or code, item, payload, withheld."),
        ),
    ],
) -> None:
    """Bring many copies (副本) up to date at once, all in one transaction or none.

    Every line is checked first (its number is given for the first bad one);
    then all copies are registered or replaced together.
    """

    def action(kojin: Kojin) -> None:
        principal = _officer(kojin, agency)
        server = kojin.agencies.intermediate(agency)
        assert server is not None
        entries = _read_copies(server.agency, jsonl)
        kojin.staff.record_shown(principal, sorted({e.code for e in entries}), "副本の登録", "write")
        # One transaction: nothing to count off as it goes, so a spinner while it commits.
        with err_console.status(pick(f"副本 {len(entries)} 件を更新中", f"updating {len(entries)} copies")):
            count = server.update_copies(entries)
        console.print(pick(f"副本 {count} 件を登録しました。", f"{count} copies registered."))

    with_system(action, demo_agencies=True)


def _read_copies(agency: AgencyService, path: Path) -> list[CopyEntry]:
    entries: list[CopyEntry] = []
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                text = _utf8_line(number, raw)
                if not text.strip():
                    continue
                entries.append(_copy_line(agency, number, text))
    except OSError:
        raise agency_reasons.UNREADABLE_FILE.error(path=path) from None
    if not entries:
        raise agency_reasons.BAD_COPIES.error(
            where_ja="", problem_ja="副本が一件もありません", where_en="", problem_en="The file holds no copy"
        )
    return entries


def _utf8_line(number: int, raw: bytes) -> str:
    """One line as UTF-8 (a byte-order mark at the start of the file allowed); Shift_JIS and the like said plainly."""
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise agency_reasons.BAD_COPIES.error(
            where_ja=f"{number}行目: ",
            problem_ja="UTF-8 ではありません（Shift_JIS などは UTF-8 に変換してください）",
            where_en=f"line {number}: ",
            problem_en="not UTF-8 (convert Shift_JIS and other encodings to UTF-8)",
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _copy_line(agency: AgencyService, number: int, text: str) -> CopyEntry:
    def bad(field: str, ja: str, en: str) -> InvalidInput:
        return agency_reasons.BAD_COPIES.error(
            where_ja=f"{number}行目の {field}: ",
            problem_ja=ja,
            where_en=f"line {number}, {field}: ",
            problem_en=en,
            field=field,
        )

    if too_deep(text):
        raise bad(
            "line",
            f"入れ子が深すぎます（{MAX_JSON_DEPTH} 段まで）",
            f"nested too deeply ({MAX_JSON_DEPTH} levels at most)",
        )
    try:
        # NaN and Infinity are Python's, not JSON's (RFC 8259): no other reader would take them.
        record = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise bad("line", "入れ子が深すぎます", "nested too deeply") from None
    except ValueError as exc:
        if exc.args and exc.args[0] in ("NaN", "Infinity", "-Infinity"):
            raise bad(
                "line", f"{exc.args[0]} は JSON の値ではありません", f"{exc.args[0]} is not a JSON value"
            ) from None
        raise bad("line", "JSON ではありません", "not JSON") from None
    if not isinstance(record, dict):
        raise bad("line", "オブジェクトではありません", "not an object")
    extra = sorted(set(record) - {"local_id", "code", "item", "payload", "withheld"})
    if extra:
        raise bad(extra[0], "未知の項目です", "unknown field")
    local_id, code = record.get("local_id"), record.get("code")
    if (local_id is None) == (code is None):
        raise bad("local_id", "local_id か code のどちらか一つを書きます", "give exactly one of local_id and code")
    if local_id is not None:
        try:
            code = agency.code_of(str(local_id))
        except KojinError:
            raise bad("local_id", "この宛名番号の人はいません", "no person has this local id") from None
    if not isinstance(code, str):
        raise bad("code", "文字列ではありません", "not a string")
    item, withheld = record.get("item"), record.get("withheld", False)
    try:
        validate_item(item)
    except KojinError:
        raise bad("item", "情報の種類が不明です", "unknown item") from None
    if not isinstance(withheld, bool):
        raise bad("withheld", "true か false です", "must be true or false")
    if "payload" not in record:
        raise bad("payload", "ありません", "missing")
    try:
        payload_json(record["payload"])
    except KojinError as exc:
        raise bad("payload", exc.message_ja.rstrip("。"), exc.message_en.rstrip(".")) from None
    return CopyEntry(code, str(item), record["payload"], withheld)


@agency_app.command("log")
def agency_log(
    agency: Annotated[str, typer.Option("--agency")],
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Print the agency's §23 records (情報提供等の記録) as JSON lines."""

    def action(kojin: Kojin) -> None:
        # The records name people only by the agency's opaque codes: the agency's own officers and auditors read them.
        _officer(kojin, agency, Role.AGENCY_OFFICER, Role.AUDITOR)
        for entry in kojin.agencies.get(agency).log_entries(limit=limit):
            print_json(entry.as_record())

    with_system(action, demo_agencies=True)


ASK_COLUMNS = ("provider", "task", "item", "local_id", "code")
RESULT_COLUMNS = (
    "line",
    "request_id",
    "provider",
    "provider_name",
    "task",
    "item",
    "outcome",
    "payload",
    "updated_at",
    "leaf_index",
    "error",
    "message",
)


@agency_app.command("ask")
def agency_ask(
    agency: Annotated[str, typer.Option("--agency", help="The requesting agency (照会機関).")],
    requests: Annotated[
        Path,
        typer.Option(
            "--requests",
            help="CSV with a header: provider, task, item, and local_id (宛名番号) or code per row.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV of results, one row per request, written whole.")],
    batch: Annotated[int, typer.Option(min=1, max=BATCH_MAX, help="Requests per batch sent to the hub.")] = BATCH_MAX,
    hub_url: Annotated[
        str | None,
        typer.Option(
            "--hub-url",
            help="The hub's base URL, as from an agency's own terminal (default: the hub in this process).",
        ),
    ] = None,
    bulk_id: Annotated[
        int | None, typer.Option(help="An approved bulk request, for more than 20 people (two-person rule).")
    ] = None,
) -> None:
    """Ask the hub for other agencies' information about many people at once (一括照会).

    Every row is checked before anything is sent: a bad row stops the run with
    its line number, and nothing is asked. Each request is then its own
    exchange: answered, withheld (不開示), no data, or refused with a reason.
    """

    def action(kojin: Kojin) -> None:
        principal = _officer(kojin, agency)
        remote = HttpHub(hub_url) if hub_url else None
        try:
            rows, failure = _ask_all(kojin, agency, requests, batch, remote, principal, bulk_id)
        finally:
            if remote is not None:
                remote.close()
        _write_csv(out, rows)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        console.print("  ".join(f"{name}: {n}" for name, n in sorted(counts.items())))
        if failure is not None:
            raise failure

    with_system(action, demo_agencies=True)


def _ask_all(
    kojin: Kojin,
    agency: str,
    requests: Path,
    batch: int,
    remote: HttpHub | None,
    principal: StaffPrincipal,
    bulk_id: int | None,
) -> tuple[list[dict[str, Any]], KojinError | None]:
    """A result row per request, and what stopped the run part way, if anything did.

    Should a whole batch fail (the hub unreachable, say), the answers already
    had are kept: that batch's rows say ``unknown`` (it may have been asked),
    the later ones ``not_asked``, and the run ends with the error.
    """
    client = kojin.agencies.client(agency, remote)
    asks = [(line, _with_code(client.agency, line, ask)) for line, ask in _read_asks(requests)]
    _check_permitted(kojin, agency, asks)
    # The staff member asking is recorded for every person asked about, under each task asked for.
    by_task: dict[str, set[str]] = {}
    for _, ask in asks:
        by_task.setdefault(ask.task, set()).add(str(ask.code))
    for task_name, codes in sorted(by_task.items()):
        kojin.staff.record_shown(principal, sorted(codes), task_name, "search", bulk_id=bulk_id)
    rows: list[dict[str, Any]] = []
    failure: KojinError | None = None
    with progress() as bar:
        task = bar.add_task(pick("照会中", "asking"), total=len(asks))
        for start in range(0, len(asks), batch):
            chunk = asks[start : start + batch]
            if failure is None:
                try:
                    results: list[ExchangeResult | KojinError | str] = list(
                        client.request_many([ask for _, ask in chunk])
                    )
                except KojinError as exc:
                    failure, results = exc, ["unknown"] * len(chunk)
            else:
                results = ["not_asked"] * len(chunk)
            rows += [
                _result_row(line, ask, result, failure) for (line, ask), result in zip(chunk, results, strict=True)
            ]
            bar.advance(task, len(chunk))
    return rows, failure


def _read_asks(path: Path) -> list[tuple[int, Ask]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or ())
            missing = [c for c in ("provider", "task", "item") if c not in fields]
            if missing or not fields & {"local_id", "code"}:
                raise agency_reasons.BAD_REQUESTS.error(
                    where_ja="",
                    problem_ja=f"見出し行に {', '.join(missing or ['local_id か code'])} がありません",
                    where_en="",
                    problem_en=f"The header lacks {', '.join(missing or ['local_id or code'])}",
                )
            asks: list[tuple[int, Ask]] = []
            for row in reader:
                line = reader.line_num
                values = {c: (row.get(c) or "").strip() for c in ASK_COLUMNS}
                for column in ("provider", "task", "item"):
                    if not values[column]:
                        raise _bad_row(line, column, "空です", "empty")
                if bool(values["local_id"]) == bool(values["code"]):
                    raise _bad_row(
                        line,
                        "local_id",
                        "local_id か code のどちらか一つを書きます",
                        "give exactly one of local_id and code",
                    )
                asks.append(
                    (
                        line,
                        Ask(
                            values["provider"],
                            values["task"],
                            values["item"],
                            code=values["code"] or None,
                            local_id=values["local_id"] or None,
                        ),
                    )
                )
    except (OSError, UnicodeDecodeError, csv.Error):
        raise agency_reasons.UNREADABLE_FILE.error(path=path, field="requests") from None
    if not asks:
        raise agency_reasons.BAD_REQUESTS.error(
            where_ja="", problem_ja="照会が一件もありません", where_en="", problem_en="The file holds no request"
        )
    return asks


def _check_permitted(kojin: Kojin, agency: str, asks: list[tuple[int, Ask]]) -> None:
    """Refuse, before anything is sent, a row the hub could only refuse: an unknown provider, or a
    (task, provider, item) that no row of the permitted-exchange table gives this agency."""
    requester = kojin.hub.agency(agency).kind
    allowed = {(p.task, p.provider_kind, p.item) for p in permitted_exchanges() if p.requester_kind is requester}
    kinds: dict[str, AgencyKind] = {}
    for line, ask in asks:
        if ask.provider not in kinds:
            try:
                kinds[ask.provider] = kojin.hub.agency(ask.provider).kind
            except KojinError:
                raise _bad_row(line, "provider", "登録されていない機関です", "not a registered agency") from None
        if (ask.task, kinds[ask.provider], ask.item) not in allowed:
            raise _bad_row(
                line,
                "task",
                "この事務・提供機関・情報の組は情報連携の許可表（利用特定個人情報）にありません",
                "this task, provider and item are not in the permitted-exchange table",
            )


def _with_code(agency: AgencyService, line: int, ask: Ask) -> Ask:
    """The ask with the person's code: a local id nobody has stops the run before anything is asked."""
    if ask.local_id is None:
        return ask
    try:
        return Ask(ask.provider, ask.task, ask.item, code=agency.code_of(ask.local_id))
    except KojinError:
        raise _bad_row(line, "local_id", "この宛名番号の人はいません", "no person has this local id") from None


def _bad_row(line: int, column: str, ja: str, en: str) -> InvalidInput:
    return agency_reasons.BAD_REQUESTS.error(
        where_ja=f"{line}行目の {column}: ",
        problem_ja=ja,
        where_en=f"line {line}, {column}: ",
        problem_en=en,
        field=column,
    )


def _result_row(
    line: int, ask: Ask, result: ExchangeResult | KojinError | str, failure: KojinError | None
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS, "")
    row.update(line=line, provider=ask.provider, task=ask.task, item=ask.item)
    if isinstance(result, str):
        row.update(outcome=result, error=failure.code if failure else "", message=failure.message if failure else "")
        return row
    if isinstance(result, KojinError):
        row.update(outcome="refused", error=result.code, message=result.message)
        return row
    row.update(
        request_id=result.request_id,
        provider_name=result.provider_name,
        outcome=result.outcome.value,
        payload="" if result.payload is None else json.dumps(result.payload, ensure_ascii=False, sort_keys=True),
        updated_at=result.updated_at or "",
        leaf_index=result.leaf_index,
    )
    return row


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    def write(handle: TextIO) -> None:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)

    try:
        atomic_write(path, write)
    except OSError:
        raise agency_reasons.UNWRITABLE_FILE.error(path=path) from None


def _read_json(path: Path) -> Any:
    try:
        if str(path) == "-":
            text = sys.stdin.read(_MAX_JSON_BYTES + 1)
        else:
            with path.open("rb") as handle:
                text = handle.read(_MAX_JSON_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise agency_reasons.UNREADABLE_FILE.error(path=path, field="json_file") from None
    if len(text) > _MAX_JSON_BYTES:
        raise agency_reasons.PAYLOAD_TOO_LARGE.error(
            what_ja="ファイル", limit=_MAX_JSON_BYTES, what_en="file", field="json_file"
        )
    try:
        return json_depth.loads(text, field="json_file")
    except KojinError:
        raise
    except ValueError as exc:
        raise agency_reasons.BAD_JSON.error(detail=exc.args[0]) from None
