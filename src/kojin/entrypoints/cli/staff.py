"""``kojin staff``: staff members, operator key files, the purposes, and what the access log holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kojin.core.i18n import pick
from kojin.core.japan import format_time
from kojin.entrypoints.cli.bulk import bulk_app, recipient_app
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import JsonOpt, console, open_system, print_json, print_record
from kojin.staff import reasons as staff_reasons
from kojin.staff.domain import ROLE_LABELS, Organisation, Role, parse_role, purposes

staff_app = typer.Typer(help="職員 — staff members, operator keys and the staff access log.", no_args_is_help=True)
staff_app.add_typer(bulk_app, name="bulk")
staff_app.add_typer(recipient_app, name="recipient")


@staff_app.command("add")
def staff_add(
    staff_id: str,
    name: Annotated[str, typer.Option(help="The member's name, as the auditor sees it.")],
    org: Annotated[str, typer.Option(help="municipality:13105, jlis, agency:nta, insurer:kyokai, linkage, oversight.")],
    role: Annotated[str, typer.Option(help="counter_clerk, supervisor, jlis_operator, agency_officer, … .")],
    as_json: JsonOpt = False,
) -> None:
    """Register a staff member (the organisation's system administrator, or the local administrator)."""

    def body() -> None:
        organisation = Organisation.parse(org)
        with open_system() as kojin:
            act_as(kojin, [Role.SYSADMIN], organisation)
            member = kojin.staff.register(staff_id, name, organisation, parse_role(role))
        record = {
            "staff_id": member.staff_id,
            "name": member.display_name,
            "organisation": str(member.organisation),
            "role": member.role.value,
        }
        print_record(record, as_json, pick("職員を登録しました", "staff member registered"))

    run_command(body)


@staff_app.command("operator-key")
def staff_operator_key(
    staff_id: str,
    out: Annotated[Path, typer.Option(help="Where to write the key file (mode 0600).")],
) -> None:
    """Make a member's operator key file for `--operator` / KOJIN_OPERATOR (an older key stops working)."""

    def body() -> None:
        with open_system() as kojin:
            member = kojin.staff.member(staff_id)
            act_as(kojin, [Role.SYSADMIN], member.organisation)
            kojin.staff.make_operator_key(staff_id, out)
        console.print(pick(f"鍵ファイルを書きました: {out}", f"key file written: {out}"))

    run_command(body)


@staff_app.command("purposes")
def staff_purposes(as_json: JsonOpt = False) -> None:
    """The purposes (事務) a read of one person may state."""
    table = Table(pick("利用目的（事務）", "purpose"), pick("英語", "in English"))
    for purpose in purposes().values():
        if as_json:
            print_json({"purpose": purpose.name, "en": purpose.en, "kind": purpose.kind.value})
        else:
            table.add_row(purpose.name, purpose.en)
    if not as_json:
        console.print(table)


@staff_app.command("accesses")
def staff_accesses(
    staff_id: Annotated[str | None, typer.Option("--staff", help="Every look by this staff member.")] = None,
    person: Annotated[str | None, typer.Option(help="Every look at this person (resident id).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The staff access log: by one staff member (with names, for the auditor) or at one person."""

    def body() -> None:
        if (staff_id is None) == (person is None):
            raise typer.BadParameter(
                pick("--staff か --person のどちらか一つを指定してください。", "give one of --staff or --person.")
            )
        with open_system() as kojin:
            act_as(kojin, [Role.AUDITOR])
            if staff_id is not None:
                rows = [
                    {
                        "at": format_time(e.at),
                        "staff": f"{e.staff_name} ({e.staff_id})",
                        "role": ROLE_LABELS[e.role].ja,
                        "organisation": str(e.organisation),
                        "person": e.person_key,
                        "purpose": e.purpose,
                        "what": e.what.value,
                        "shown": str(e.count),
                    }
                    for e in kojin.staff.accesses_by(staff_id)
                ]
            else:
                rows = [
                    {
                        "at": format_time(s.at),
                        "role": ROLE_LABELS[s.role].ja,
                        "organisation": str(s.organisation),
                        "purpose": s.purpose,
                        "what": s.what.value,
                    }
                    for s in kojin.staff.accesses_of(str(person))
                ]
        _print_rows(rows, as_json, pick("職員アクセス記録", "staff access log"))

    run_command(body)


@staff_app.command("refusals")
def staff_refusals(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="The newest so many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Refused attempts at staff doors, newest first (for the auditor)."""

    def body() -> None:
        with open_system() as kojin:
            act_as(kojin, [Role.AUDITOR])
            rows = [
                {
                    "at": format_time(r.at),
                    "staff": r.staff_id or "",
                    "role": r.role or "",
                    "where": f"{r.method} {r.path}",
                    "code": r.code,
                }
                for r in kojin.staff.refusals.recent(limit)
            ]
        _print_rows(rows, as_json, pick("拒否された操作", "refused attempts"))

    run_command(body)


def _print_rows(rows: list[dict[str, str]], as_json: bool, title: str) -> None:
    if as_json:
        for row in rows:
            print_json(row)
        return
    if not rows:
        console.print(pick("記録はありません。", "nothing recorded."))
        return
    table = Table(*rows[0].keys(), title=title)
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@staff_app.command("token")
def staff_token(
    card_id: str,
    url: Annotated[str, typer.Option("--url", help="The kojin deployment, e.g. https://kojin.example.jp.")],
    pin: Annotated[str | None, typer.Option(help="The staff card's 4-digit PIN; prompted when omitted.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the access token to this file (mode 0600).")] = None,
) -> None:
    """Log in to a remote deployment with a staff card: an OAuth 2 bearer token for its API (15 minutes)."""
    import httpx

    from kojin.card.issuance import load_card_secret
    from kojin.card.storage import CardStore, card_path
    from kojin.core.config import Settings
    from kojin.core.files import atomic_write
    from kojin.staff.login import TokenRefused, token_with_card

    def body() -> None:
        cards_dir = Settings().cards_dir
        card = CardStore(card_path(cards_dir, card_id), load_card_secret(cards_dir)).load()
        value = pin or typer.prompt(pick("暗証番号（数字4桁）", "PIN (4 digits)"), hide_input=True)
        with httpx.Client(timeout=30) as client:
            try:
                answer = token_with_card(card, value, client, url.rstrip("/"))
            except TokenRefused as refused:
                raise staff_reasons.TOKEN_REFUSED.error(reason=refused.reason or refused.error) from None
        if out is not None:
            atomic_write(out, lambda handle: handle.write(str(answer["access_token"])))  # mkstemp: mode 0600
            console.print(pick(f"アクセストークンを書きました: {out}", f"access token written: {out}"))
        else:
            print_json(answer)

    run_command(body)
