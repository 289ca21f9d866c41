"""``kojin notice``: agencies post notices (お知らせ) to a resident's portal."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from kojin.app import build
from kojin.core.errors import KojinError
from kojin.core.i18n import pick

notice_app = typer.Typer(help="お知らせ — notices from agencies to a resident's portal.", no_args_is_help=True)


def _fail(exc: KojinError) -> typer.Exit:
    sys.stderr.write(exc.one_line() + "\n")
    return typer.Exit(2)


@notice_app.command("send")
def notice_send(
    resident: Annotated[int, typer.Option("--resident", help="The resident's id in the register.")],
    sender: Annotated[str, typer.Option("--from", help="The sending agency's id at the hub (e.g. 13105).")],
    title: Annotated[str, typer.Option("--title", help="Title, up to 100 characters.")],
    body: Annotated[str, typer.Option("--body", help="Text, up to 2000 characters.")],
) -> None:
    """Post a notice to one resident; it shows unread in their portal."""
    kojin = build()
    try:
        notice_id = kojin.portal.send_notice(resident, sender_id=sender, title=title, body=body)
    except KojinError as exc:
        raise _fail(exc) from None
    finally:
        kojin.close()
    sys.stdout.write(pick(f"お知らせを送りました（{notice_id}）。\n", f"notice sent ({notice_id}).\n"))


@notice_app.command("list")
def notice_list(
    resident: Annotated[int, typer.Option("--resident", help="The resident's id in the register.")],
) -> None:
    """The resident's notices as JSON lines, newest first."""
    kojin = build()
    try:
        kojin.register.get(resident)
        for notice in kojin.portal.notices.of(resident):
            sys.stdout.write(json.dumps(notice.as_record(), ensure_ascii=False) + "\n")
    except KojinError as exc:
        raise _fail(exc) from None
    finally:
        kojin.close()
