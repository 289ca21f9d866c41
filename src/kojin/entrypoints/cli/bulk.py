"""``kojin staff bulk …`` and ``kojin staff recipient …``: the two-person rule at the terminal.

A listing or export of more than 20 people needs a request (its purpose, how
many, to whom the file is encrypted), approved by another supervisor of the
same organisation. ``kojin resident list --bulk-id`` and ``kojin resident
export`` then use it. Every command acts as the operator its key file proves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kojin.core.i18n import pick
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import PurposeOpt, acting
from kojin.entrypoints.cli.system import JsonOpt, open_system, print_record
from kojin.staff.bulk_api import bulk_record, recipient_record

bulk_app = typer.Typer(
    help="一括出力の申請と承認 — bulk requests and the second person's approval.", no_args_is_help=True
)
recipient_app = typer.Typer(
    help="出力ファイルの受取人 — recipients whose certificate export files are encrypted to.", no_args_is_help=True
)


@bulk_app.command("request")
def bulk_request(
    rows: Annotated[int, typer.Option(min=1, help="How many people at most.")],
    recipient: Annotated[str, typer.Option(help="The registered recipient the file is encrypted to.")],
    purpose: PurposeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask for a second person's approval of a listing or export of more than 20 people."""

    def body() -> None:
        with open_system() as kojin:
            request = kojin.staff.request_bulk(acting(kojin), purpose, rows, recipient)
        print_record(bulk_record(request), as_json, pick("一括出力を申請しました", "bulk request made"))

    run_command(body)


@bulk_app.command("approve")
def bulk_approve(bulk_id: int, as_json: JsonOpt = False) -> None:
    """Approve another staff member's request (a supervisor of the same organisation)."""

    def body() -> None:
        with open_system() as kojin:
            request = kojin.staff.approve_bulk(acting(kojin), bulk_id)
        print_record(bulk_record(request), as_json, pick("承認しました", "approved"))

    run_command(body)


@bulk_app.command("show")
def bulk_show(bulk_id: int, as_json: JsonOpt = False) -> None:
    """One bulk request: who asked, who approved, and the file it produced."""

    def body() -> None:
        with open_system() as kojin:
            request = kojin.staff.bulk_request_for(acting(kojin), bulk_id)
        print_record(bulk_record(request), as_json, pick(f"一括出力 {bulk_id}", f"bulk request {bulk_id}"))

    run_command(body)


@recipient_app.command("add")
def recipient_add(
    name: str,
    cert: Annotated[Path, typer.Option(help="The recipient's X.509 certificate (PEM, RSA ≥ 2048).")],
    as_json: JsonOpt = False,
) -> None:
    """Register a recipient (a supervisor or system administrator)."""

    def body() -> None:
        pem = cert.read_text(encoding="ascii", errors="replace")
        with open_system() as kojin:
            added = kojin.staff.add_recipient(acting(kojin), name, pem)
        print_record(recipient_record(added), as_json, pick("受取人を登録しました", "recipient registered"))

    run_command(body)
