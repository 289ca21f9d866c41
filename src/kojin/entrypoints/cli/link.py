"""``kojin link`` and ``kojin audit links``: batch linking, the review queue, the audit.

    kojin link --agency AGENCY --members IN.csv --out OUT.csv
    kojin link review list | show CASE | decide CASE (--resident ID | --no-match)
        (a link under the automatic threshold needs a second, different operator)
    kojin link index [--rebuild] [--full-history]
    kojin audit links [--out DIR]

A member file with any problem is refused whole: every problem is printed with
its line number, the exit status is 2, and no output file is written.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kojin.app import Kojin
from kojin.core.i18n import pick
from kojin.entrypoints.cli.console import cell, json_safe
from kojin.entrypoints.cli.console import progress as _progress
from kojin.entrypoints.cli.console import run_command as _run
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import open_system, print_json
from kojin.linkage import reasons as linkage_reasons
from kojin.linkage.audit import FINDING_LABELS, PATH_LABELS, FindingKind
from kojin.linkage.matcher import Decision, MemberRecord
from kojin.linkage.members import Outcome, read_members, write_outcomes
from kojin.linkage.report import write_report
from kojin.linkage.service import CaseView, Clerk
from kojin.linkage.views import REVIEW_PURPOSE
from kojin.staff.domain import Role, StaffPrincipal

console = Console()

link_app = typer.Typer(
    help="基本4情報による照合 — link an agency's members to residents by the four basic items (J-LIS).",
    add_completion=False,
    rich_markup_mode=None,
)
review_app = typer.Typer(
    help="要確認案件 — the review queue: list, show, decide.", no_args_is_help=True, rich_markup_mode=None
)
link_app.add_typer(review_app, name="review")


def _linkage_clerk(kojin: Kojin, *roles: Role) -> StaffPrincipal:
    """The operator, in the linkage office (or one of ``roles``)."""
    return act_as(kojin, roles or [Role.LINKAGE_CLERK])


def _link(kojin: Kojin, agency: str, records: list[MemberRecord], workers: int | None) -> list[Outcome]:
    with _progress() as progress:
        indexing = progress.add_task(pick("照合用索引を更新中", "refreshing the index"), total=None)
        kojin.matching.refresh_index(progress=lambda n: progress.update(indexing, completed=n))
        progress.update(indexing, total=1, completed=1)
        matching = progress.add_task(pick("照合中", "matching"), total=len(records))
        recording = progress.add_task(pick("記録中", "recording"), total=len(records))

        def advance(stage: str, n: int) -> None:
            progress.update(matching if stage == "match" else recording, completed=n)

        return kojin.matching.link_members(agency, records, workers=workers, progress=advance)


@link_app.callback(invoke_without_command=True)
def link(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option("--agency", help="The agency asking (its id at the hub).")] = None,
    members: Annotated[
        Path | None,
        typer.Option(
            "--members",
            metavar="IN.csv",
            help="UTF-8 CSV: member_id, name, kana, sex, birth_date, postal_code, address.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="OUT.csv",
            help="Result CSV: member_id, decision, resident_id, agency_code, score, reasons.",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Matching processes (default: 2 for big files).")
    ] = None,
) -> None:
    """Link an agency's members: codes for the certain ones, review cases for the rest."""
    if ctx.invoked_subcommand is not None:
        return
    if agency is None and members is None and out is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)

    def body() -> None:
        if not (agency and members and out):
            raise linkage_reasons.OPTIONS.error()
        if out.resolve() == members.resolve():
            raise linkage_reasons.OUT_IS_IN.error()
        records = read_members(members)  # every problem is found before anything is matched
        with open_system() as kojin:
            _linkage_clerk(kojin)
            kojin.hub.agency(agency, field="agency")
            outcomes = _link(kojin, agency, records, workers)
        write_outcomes(out, outcomes)
        counts = Counter(o.decision for o in outcomes)
        console.print(
            pick(
                f"紐付け {counts[Decision.LINKED]} 件、要確認 {counts[Decision.REVIEW]} 件、"
                f"該当なし {counts[Decision.NO_MATCH]} 件 → {out}",
                f"linked {counts[Decision.LINKED]}, review {counts[Decision.REVIEW]}, "
                f"no match {counts[Decision.NO_MATCH]} → {out}",
            )
        )

    _run(body)


@link_app.command("index")
def index(
    rebuild: Annotated[bool, typer.Option(help="Start the comparison keys over.")] = False,
    full_history: Annotated[bool, typer.Option(help="Read every resident's history (slow).")] = False,
) -> None:
    """Bring the comparison keys up to date with the register (照合用索引の更新)."""

    def body() -> None:
        with open_system() as kojin, _progress() as progress:
            _linkage_clerk(kojin, Role.LINKAGE_CLERK, Role.SYSADMIN)
            task = progress.add_task(pick("照合用索引を更新中", "refreshing the index"), total=kojin.register.count())
            stats = kojin.matching.refresh_index(
                rebuild=rebuild, full_history=full_history, progress=lambda n: progress.update(task, completed=n)
            )
        console.print(
            pick(
                f"住民 {stats.residents} 人（追加 {stats.added}、更新 {stats.refreshed}）{stats.seconds:.1f} 秒",
                f"{stats.residents} residents ({stats.added} added, {stats.refreshed} refreshed)"
                f" in {stats.seconds:.1f} s",
            )
        )

    _run(body)


def _reasons(items: Any) -> str:
    return ";".join(r.text() for r in items)


@review_app.command("list")
def review_list(
    agency: Annotated[str | None, typer.Option(help="Only this agency's cases.")] = None,
    status: Annotated[
        str, typer.Option(help="open (with pending_second), pending_second, linked, no_match, superseded or all.")
    ] = "open",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List review cases, oldest first."""

    def body() -> None:
        with open_system() as kojin:
            _linkage_clerk(kojin)
            found = kojin.matching.cases(
                status=None if status == "all" else status, agency_id=agency, limit=limit, offset=offset
            )
        if as_json:
            for c in found:
                sys.stdout.write(
                    json_safe(
                        json.dumps(
                            {
                                "case_id": c.case_id,
                                "agency_id": c.agency_id,
                                "member_id": c.member_id,
                                "name": c.member_name,
                                "reasons": _reasons(c.reasons),
                                "candidates": c.candidates,
                                "score": c.score,
                                "status": c.status,
                                "created_at": c.created_at.isoformat(),
                            },
                            ensure_ascii=False,
                        )
                    )
                    + "\n"
                )
            return
        table = Table(
            pick("案件", "case"),
            pick("機関", "agency"),
            pick("加入者", "member"),
            pick("氏名", "name"),
            pick("理由", "reasons"),
            pick("候補", "cands"),
            pick("状態", "status"),
        )
        for c in found:
            table.add_row(
                *map(cell, (c.case_id, c.agency_id, c.member_id, c.member_name, _reasons(c.reasons), c.candidates)),
                cell(c.status),
            )
        console.print(table)

    _run(body)


@review_app.command("show")
def review_show(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a case: the member beside each candidate, field by field."""

    def body() -> None:
        with open_system() as kojin:
            principal = _linkage_clerk(kojin)
            case = kojin.matching.case(case_id)
            shown = [str(c.resident_id) for c in case.candidates]
            kojin.staff.record_shown(principal, shown, REVIEW_PURPOSE, "search")
        if as_json:
            print_json(_case_record(case))
        else:
            _print_case(case)

    _run(body)


def _case_record(case: CaseView) -> dict[str, Any]:
    m = case.member
    return {
        "case_id": case.case_id,
        "agency_id": case.agency_id,
        "status": case.status,
        "proposed_by": case.proposed_by,
        "proposed_resident": case.proposed_resident,
        "reasons": _reasons(case.reasons),
        "member": {
            "member_id": m.member_id,
            "name": m.name,
            "kana": m.kana,
            "sex": m.sex.value,
            "birth_date": m.birth_date.isoformat(),
            "postal_code": m.postal_code,
            "address": m.address,
        },
        "candidates": [
            {
                "resident_id": c.resident_id,
                "score": c.score,
                "levels": c.levels,
                "name": c.name,
                "kana": c.kana,
                "sex": c.sex,
                "birth_date": c.birth_date.isoformat(),
                "postal_code": c.postal_code,
                "address": c.address,
                "status": c.status,
                "old_names": list(c.old_names),
                "old_addresses": list(c.old_addresses),
            }
            for c in case.candidates
        ],
        "decisions": [
            {
                "outcome": d.outcome,
                "resident_id": d.resident_id,
                "clerk": d.clerk,
                "clerk_id": d.clerk_id,
                "decided_at": d.decided_at.isoformat(),
            }
            for d in case.decisions
        ],
    }


def _print_case(case: CaseView) -> None:
    m = case.member
    console.print(
        cell(
            pick(
                f"案件 {case.case_id}（{case.agency_id}、{case.status}）理由: {_reasons(case.reasons)}",
                f"case {case.case_id} ({case.agency_id}, {case.status}) reasons: {_reasons(case.reasons)}",
            )
        )
    )
    table = Table(
        pick("項目", "item"),
        pick("届出", "sent"),
        *(f"{pick('住民', 'resident')} {c.resident_id} ({c.score:.1f})" for c in case.candidates),
    )
    cs = case.candidates
    rows = [
        (pick("氏名", "name"), m.name, *(f"{c.name} [{c.levels['surname']}/{c.levels['given']}]" for c in cs)),
        (pick("フリガナ", "kana"), m.kana, *(c.kana for c in cs)),
        (pick("性別", "sex"), m.sex.value, *(f"{c.sex} [{c.levels['sex']}]" for c in cs)),
        (
            pick("生年月日", "born"),
            m.birth_date.isoformat(),
            *(f"{c.birth_date.isoformat()} [{c.levels['birth_date']}]" for c in cs),
        ),
        (pick("郵便番号", "postal"), m.postal_code, *(c.postal_code for c in cs)),
        (pick("住所", "address"), m.address, *(f"{c.address} [{c.levels['address']}]" for c in cs)),
        (pick("状態", "status"), "", *(c.status for c in cs)),
    ]
    for row in rows:
        # A member's name is whatever the agency sent: shown, never acted on by the terminal.
        table.add_row(*map(cell, row))
    console.print(table)
    for d in case.decisions:
        console.print(cell(f"{d.decided_at.isoformat()} {d.clerk}: {d.outcome} {d.resident_id or ''}"))


@review_app.command("decide")
def review_decide(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    resident: Annotated[
        int | None,
        typer.Option(
            "--resident",
            help="Link the member to this candidate (under the automatic threshold: a second clerk must agree).",
        ),
    ] = None,
    no_match: Annotated[bool, typer.Option("--no-match", help="Nobody in the register is this member.")] = False,
) -> None:
    """Decide a case: link to a candidate, or no match (recorded under the operator, with the time).

    A link to a candidate under the automatic threshold is a proposal
    (pending_second) until a different operator chooses the same resident.
    """

    def body() -> None:
        with open_system() as kojin:
            principal = _linkage_clerk(kojin)
            clerk = Clerk(principal.staff_id, kojin.staff.member(principal.staff_id).display_name)
            made = kojin.matching.decide(case_id, clerk=clerk, resident_id=resident, no_match=no_match)
        if made.outcome == "proposed":
            console.print(
                pick(
                    f"案件 {case_id}: 住民 {made.resident_id} への紐付けを提案しました。"
                    "別の担当者が同じ住民を選ぶと紐付けます（pending_second）。",
                    f"case {case_id}: proposed a link to resident {made.resident_id}; "
                    "it is made when a different clerk chooses the same resident (pending_second).",
                )
            )
        elif made.outcome == "link":
            console.print(
                pick(
                    f"案件 {case_id}: 住民 {made.resident_id} に紐付けました（機関別符号 {made.agency_code}）。",
                    f"case {case_id}: linked to resident {made.resident_id} (code {made.agency_code}).",
                )
            )
        else:
            console.print(
                pick(f"案件 {case_id}: 該当者なしとして記録しました。", f"case {case_id}: recorded as no match.")
            )

    _run(body)


def audit_links(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Where to write link-audit.csv and .html.")] = Path(
        "link-audit"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """総点検: re-check every link by every path — matcher, clerks, number, insurer — and public-funds accounts
    (one code, several people; kana; address; family pattern; one account, several people)."""

    def body() -> None:
        with open_system() as kojin:
            _linkage_clerk(kojin, Role.LINKAGE_CLERK, Role.AUDITOR)
            report = kojin.audit_links()
        csv_path, html_path = write_report(report, out)
        counts = report.counts()
        by_path = report.by_path()
        if as_json:
            sys.stdout.write(
                json.dumps(
                    {
                        "links_checked": report.links_checked,
                        "accounts_checked": report.accounts_checked,
                        "findings": len(report.findings),
                        "by_path": {p.value: {"checked": n, "findings": f} for p, (n, f) in by_path.items()},
                        "by_kind": {k.value: counts[k] for k in FindingKind},
                        "csv": str(csv_path),
                        "html": str(html_path),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            return
        paths = Table(pick("経路", "path"), pick("点検", "checked"), pick("指摘", "findings"))
        for path, (checked, found) in by_path.items():
            paths.add_row(pick(*PATH_LABELS[path]), str(checked), str(found))
        console.print(paths)
        table = Table(pick("種類", "kind"), pick("件数", "count"))
        for kind in FindingKind:
            table.add_row(pick(FINDING_LABELS[kind][0], FINDING_LABELS[kind][1]), str(counts[kind]))
        console.print(table)
        console.print(
            pick(
                f"点検した紐付け {report.links_checked} 件 → {csv_path}, {html_path}",
                f"{report.links_checked} links checked → {csv_path}, {html_path}",
            )
        )

    _run(body)
