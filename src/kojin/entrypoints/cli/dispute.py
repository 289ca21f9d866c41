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
from kojin.staff.domain import Role

dispute_app = typer.Typer(
    help="ひも付けの誤りの申し出 — links people disputed in the portal, for a supervisor to decide.",
    no_args_is_help=True,
)


@dispute_app.command("list")
def dispute_list() -> None:
    """Disputes not yet decided that the operator may decide, oldest first, as JSON lines."""

    def list_disputes(kojin: Kojin) -> None:
        principal = act_as(kojin, [Role.SUPERVISOR])
        for dispute in kojin.portal.disputes_for(principal):
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
        principal = act_as(kojin, [Role.SUPERVISOR])
        done = kojin.portal.decide_dispute(principal, dispute_id, outcome, note)
        print_json(done.as_record())
        sys.stderr.write(pick(f"申し出 {dispute_id} を確認しました。\n", f"dispute {dispute_id} resolved.\n"))

    with_system(resolve)
