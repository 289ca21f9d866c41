"""``kojin corp``: the NTA's public corporate-number register (法人番号)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kojin.core.i18n import pick
from kojin.corporate.api import NTA
from kojin.corporate.domain import corporation_record
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import JsonOpt, console, open_system, print_json, print_record
from kojin.staff.domain import Role

corp_app = typer.Typer(help="法人番号 — the corporate-number register.", no_args_is_help=True)


@corp_app.command("add")
def corp_add(
    name: Annotated[str, typer.Option()],
    furigana: Annotated[str, typer.Option(help="Full-width katakana.")],
    kind: Annotated[str, typer.Option(help="法人種別: 301 株式会社, 305 合同会社, …")],
    postal_code: Annotated[str, typer.Option()],
    street: Annotated[str, typer.Option(help="Street address after the town.")],
    as_json: JsonOpt = False,
) -> None:
    """Register a corporation and assign its corporate number."""

    def body() -> None:
        with open_system() as kojin:
            act_as(kojin, [Role.AGENCY_OFFICER], NTA)  # 法人番号 are the NTA's to assign
            corp = kojin.corporate.register(
                name=name, furigana=furigana, kind=kind, postal_code=postal_code, street=street
            )
        print_record(corporation_record(corp), as_json, pick("登録しました", "registered"))

    run_command(body)


@corp_app.command("show")
def corp_show(corporate_number: str, as_json: JsonOpt = False) -> None:
    """Look a corporation up by its number."""

    def body() -> None:
        with open_system() as kojin:
            corp = kojin.corporate.get(corporate_number)
        print_record(corporation_record(corp), as_json, corporate_number)

    run_command(body)


@corp_app.command("search")
def corp_search(
    name: str,
    mode: Annotated[int, typer.Option(help="1 prefix match, 2 partial match.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Search corporations by name."""

    def body() -> None:
        with open_system() as kojin:
            found = kojin.corporate.search(name, mode=mode)
        if as_json:
            for corp in found:
                print_json(corporation_record(corp))
            return
        table = Table(pick("法人番号", "number"), pick("名称", "name"), pick("所在地", "address"))
        for corp in found:
            table.add_row(corp.corporate_number, corp.name, corp.address)
        console.print(table)

    run_command(body)
