"""``kojin insurance …``: insurers' and clinics' counter work from a terminal.

Members are named by the insurer's own local id (shown by ``members``), never
by a number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kojin.app import Kojin
from kojin.core.i18n import pick
from kojin.entrypoints.cli.operator import PurposeOpt, act_as
from kojin.entrypoints.cli.system import print_json, with_system
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal

console = Console()

insurance_app = typer.Typer(
    help="医療保険・オンライン資格確認 — insurers' members, 資格確認書, clinics.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _officer(kojin: Kojin, insurer: str) -> StaffPrincipal:
    """The operator, an officer of ``insurer`` (records are kept under the insurer's code for the member)."""
    return act_as(kojin, [Role.INSURER_OFFICER], Organisation(OrganisationKind.INSURER, insurer))


@insurance_app.command("members")
def members(
    insurer: Annotated[str, typer.Option(help="Insurer id: kenpo_kojin, kyokai, 13105, tokyo_kouki.")],
    purpose: PurposeOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=20, help="At most this many (a listing: 20 at most).")] = 20,
) -> None:
    """List an insurer's members (local id, symbol, number, branch, name); each one shown is recorded."""

    def body(kojin: Kojin) -> None:
        principal = _officer(kojin, insurer)
        service = kojin.insurers.get(insurer)
        shown = service.members(limit=limit)
        kojin.staff.record_shown(principal, [m["member_code"] for m in shown], purpose, "search")
        table = Table(title=service.insurer.name)
        for column in ("local_id", "symbol", "number", "branch", "name", "lost_on"):
            table.add_column(column)
        for m in shown:
            table.add_row(m["local_id"], m["symbol"], m["number"], m["branch"], m["name"], str(m["lost_on"] or ""))
        console.print(table)

    with_system(body)


@insurance_app.command("cancel-registration")
def cancel_registration(
    insurer: Annotated[str, typer.Option(help="Insurer id.")],
    local_id: Annotated[str, typer.Option(help="The member's local id at the insurer.")],
) -> None:
    """解除 at the insurer's counter: the card stops working as the insurance card; a 資格確認書 is issued."""

    def body(kojin: Kojin) -> None:
        principal = _officer(kojin, insurer)
        service = kojin.insurers.get(insurer)
        kojin.staff.record_access(principal, service.member(local_id)["member_code"], "利用登録の解除", "write")
        service.cancel_registration(local_id)
        cert = service.current_certificate(local_id)
        console.print(
            pick(
                f"利用登録を解除しました。資格確認書 {cert.certificate_id if cert else '—'}（有効期限 "
                f"{cert.valid_until if cert else '—'}）",
                f"registration cancelled; certificate {cert.certificate_id if cert else '—'} valid until "
                f"{cert.valid_until if cert else '—'}",
            )
        )

    with_system(body)


@insurance_app.command("certificate")
def certificate(
    insurer: Annotated[str, typer.Option(help="Insurer id.")],
    local_id: Annotated[str, typer.Option(help="The member's local id at the insurer.")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write the member's 資格確認書 as a PDF."""

    def body(kojin: Kojin) -> None:
        principal = _officer(kojin, insurer)
        service = kojin.insurers.get(insurer)
        kojin.staff.record_access(principal, service.member(local_id)["member_code"], "資格確認書の交付", "write")
        out.write_bytes(service.certificate_pdf(local_id))
        console.print(str(out))

    with_system(body)


@insurance_app.command("notice")
def notice(
    insurer: Annotated[str, typer.Option(help="Insurer id.")],
    local_id: Annotated[str, typer.Option(help="The member's local id at the insurer.")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write the member's 資格情報のお知らせ as a PDF, with the last four digits of the linked number from J-LIS."""

    def body(kojin: Kojin) -> None:
        principal = _officer(kojin, insurer)
        service = kojin.insurers.get(insurer)
        kojin.staff.record_access(
            principal, service.member(local_id)["member_code"], "資格情報のお知らせの作成", "read"
        )
        out.write_bytes(service.notice_pdf(local_id, today=kojin.eligibility.today()))
        console.print(str(out))

    with_system(body)


@insurance_app.command("add-clinic")
def add_clinic(
    clinic_id: Annotated[str, typer.Option(help="医療機関コード, 10 digits.")],
    name: Annotated[str, typer.Option(help="The clinic's name.")],
    kind: Annotated[str, typer.Option(help="clinic, hospital or pharmacy.")] = "clinic",
) -> None:
    """Register a clinic with the eligibility service; its terminal key is printed once."""

    def body(kojin: Kojin) -> None:
        act_as(kojin, [Role.SYSADMIN])
        key = kojin.eligibility.register_clinic(clinic_id, name, kind)
        print_json({"clinic_id": clinic_id, "key": key})

    with_system(body)
