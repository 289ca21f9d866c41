"""``kojin notice``: agencies post notices (お知らせ) to a resident's portal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kojin.app import Kojin
from kojin.core.i18n import pick
from kojin.entrypoints.cli.system import print_json, with_system

notice_app = typer.Typer(help="お知らせ — notices from agencies to a resident's portal.", no_args_is_help=True)


@notice_app.command("send")
def notice_send(
    resident: Annotated[int, typer.Option("--resident", help="The resident's id in the register.")],
    sender: Annotated[str, typer.Option("--from", help="The sending agency's id at the hub (e.g. 13105).")],
    title: Annotated[str, typer.Option("--title", help="Title, up to 100 characters.")],
    body: Annotated[str, typer.Option("--body", help="Text, up to 2000 characters.")],
) -> None:
    """Post a notice to one resident; it shows unread in their portal."""

    def send(kojin: Kojin) -> None:
        notice_id = kojin.portal.send_notice(resident, sender_id=sender, title=title, body=body)
        sys.stdout.write(pick(f"お知らせを送りました（{notice_id}）。\n", f"notice sent ({notice_id}).\n"))

    with_system(send)


@notice_app.command("list")
def notice_list(
    resident: Annotated[int, typer.Option("--resident", help="The resident's id in the register.")],
) -> None:
    """The resident's notices as JSON lines, newest first."""

    def list_notices(kojin: Kojin) -> None:
        kojin.register.get(resident)
        for notice in kojin.portal.notices.of(resident):
            print_json(notice.as_record())

    with_system(list_notices)
