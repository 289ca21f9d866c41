"""``kojin dispute``: a supervisor decides the links people disputed in the portal (ひも付けの誤りの申し出).

A J-LIS supervisor decides an agency's code or an insurance membership; a
supervisor of the person's municipality decides the 公金受取口座. The
decision is recorded with the supervisor's staff id and the person sees it,
with the office and role, on their ひも付けの確認 page.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kojin.app import Kojin
from kojin.core.i18n import pick
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import print_json, with_system
from kojin.portal.domain import dispute_outcome
from kojin.staff.domain import Role

dispute_app = typer.Typer(
    help="ひも付けの誤りの申し出 — links people disputed in the portal, for a supervisor to decide.",
    no_args_is_help=True,
)

PURPOSE = "ひも付けの誤りの申し出の確認"


@dispute_app.command("list")
def dispute_list() -> None:
    """Disputes not yet decided that the operator may decide, oldest first, as JSON lines."""

    def list_disputes(kojin: Kojin) -> None:
        principal = act_as(kojin, [Role.SUPERVISOR])
        for dispute in kojin.portal.disputes.pending():
            mine = principal.role is Role.LOCAL_ADMIN or kojin.portal.resolver_of(dispute) == principal.organisation
            if mine:
                kojin.staff.record_access(principal, str(dispute.resident_id), PURPOSE, "search")
                print_json(dispute.as_record())

    with_system(list_disputes)


@dispute_app.command("resolve")
def dispute_resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's number (`kojin dispute list`).")],
    outcome: Annotated[str, typer.Option("--outcome", help="confirmed (the link is right) or wrong.")],
    note: Annotated[str, typer.Option("--note", help="What was checked, shown to the person (≤500 characters).")],
) -> None:
    """Decide a dispute: confirmed lifts the suspension; wrong removes the link for good."""

    def resolve(kojin: Kojin) -> None:
        decided = dispute_outcome(outcome)
        principal = act_as(kojin, [Role.SUPERVISOR])
        dispute = kojin.portal.disputes.get(dispute_id)
        organisation = kojin.portal.resolver_of(dispute)
        if principal.role is not Role.LOCAL_ADMIN:
            kojin.staff.authorise(principal, [Role.SUPERVISOR], organisation)
        kojin.staff.record_access(principal, str(dispute.resident_id), PURPOSE, "write")
        done = kojin.portal.resolve_dispute(
            dispute_id, decided, staff_id=principal.staff_id, organisation=organisation, note=note
        )
        print_json(done.as_record())
        sys.stderr.write(pick(f"申し出 {dispute_id} を確認しました。\n", f"dispute {dispute_id} resolved.\n"))

    with_system(resolve)
