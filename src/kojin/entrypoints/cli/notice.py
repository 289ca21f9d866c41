"""``kojin notice``: agencies post notices (お知らせ) to a resident's portal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kojin.app import Kojin
from kojin.core.i18n import pick
from kojin.entrypoints.cli.operator import PurposeOpt, act_as, counter_act
from kojin.entrypoints.cli.system import print_json, with_system
from kojin.staff import reasons as staff_reasons
from kojin.staff.domain import Role

notice_app = typer.Typer(help="お知らせ — notices from agencies to a resident's portal.", no_args_is_help=True)


def _sender(kojin: Kojin, sender: str, resident: int, what: str) -> None:
    """The operator sends for their own agency (or municipality); the notice is a write about the resident."""
    kojin.register.get(resident)
    principal = act_as(kojin, [Role.AGENCY_OFFICER, Role.COUNTER_CLERK])
    if principal.role is not Role.LOCAL_ADMIN and principal.organisation.id != sender:
        raise staff_reasons.OTHER_ORGANISATION.error(organisation=sender)
    kojin.staff.record_access(principal, str(resident), "本人への自己情報の表示に関する事務", what)


@notice_app.command("send")
def notice_send(
    resident: Annotated[int, typer.Option("--resident", help="The resident's id in the register.")],
    sender: Annotated[str, typer.Option("--from", help="The sending agency's id at the hub (e.g. 13105).")],
    title: Annotated[str, typer.Option("--title", help="Title, up to 100 characters.")],
    body: Annotated[str, typer.Option("--body", help="Text, up to 2000 characters.")],
) -> None:
    """Post a notice to one resident; it shows unread in their portal."""

    def send(kojin: Kojin) -> None:
        _sender(kojin, sender, resident, "write")
        notice_id = kojin.portal.send_notice(resident, sender_id=sender, title=title, body=body)
        sys.stdout.write(pick(f"お知らせを送りました（{notice_id}）。\n", f"notice sent ({notice_id}).\n"))

    with_system(send)


@notice_app.command("list")
def notice_list(
    resident: Annotated[int, typer.Option("--resident", help="The resident's id in the register.")],
    purpose: PurposeOpt = None,
) -> None:
    """The resident's notices as JSON lines, newest first (a look at the resident: give --purpose)."""

    def list_notices(kojin: Kojin) -> None:
        counter_act(kojin, resident, purpose, "read")
        for notice in kojin.portal.notices.of(resident):
            print_json(notice.as_record())

    with_system(list_notices)
