"""The ``kojin`` command: set up, run and operate every party from a terminal.

One module per command group (``resident``, ``number``, ``card`` …); each opens
the system the one way :mod:`kojin.entrypoints.cli.system` offers. Every failure
a user can cause ends in one line naming the field and the problem, and a
non-zero exit; no traceback reaches the terminal unless ``KOJIN_DEBUG=1`` asks
for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kojin.core.i18n import set_language
from kojin.entrypoints.cli import serve
from kojin.entrypoints.cli.agency import agency_app
from kojin.entrypoints.cli.audit import audit_app
from kojin.entrypoints.cli.card import card_app
from kojin.entrypoints.cli.corp import corp_app
from kojin.entrypoints.cli.dispute import dispute_app
from kojin.entrypoints.cli.insurance import insurance_app
from kojin.entrypoints.cli.link import audit_links, link_app
from kojin.entrypoints.cli.notice import notice_app
from kojin.entrypoints.cli.number import number_app
from kojin.entrypoints.cli.operator import set_operator_file
from kojin.entrypoints.cli.pki import pki_app
from kojin.entrypoints.cli.resident import resident_app
from kojin.entrypoints.cli.staff import staff_app

HELP = """kojin — マイナンバー制度のプライバシー・バイ・デザイン実装。

A privacy-by-design implementation of Japan's My Number system.
Start with `kojin up`; every command has --help.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.command()(serve.init)
app.command()(serve.seed)
app.command()(serve.up)
app.add_typer(resident_app, name="resident")
app.add_typer(number_app, name="number")
app.add_typer(corp_app, name="corp")
app.add_typer(card_app, name="card")
app.add_typer(pki_app, name="pki")
# Information linkage (hub, agencies) and the exchange log.
app.add_typer(agency_app, name="agency")
app.add_typer(audit_app, name="audit")
app.add_typer(insurance_app, name="insurance")
app.add_typer(notice_app, name="notice")
# Record linkage by the four basic items: `kojin link …` and `kojin audit links`.
app.add_typer(link_app, name="link")
audit_app.command("links")(audit_links)
# Links people disputed in the portal, for a supervisor to decide.
app.add_typer(dispute_app, name="dispute")
# Staff members, operator key files and the staff access log.
app.add_typer(staff_app, name="staff")


@app.callback()
def main_options(
    lang: Annotated[str, typer.Option("--lang", envvar="KOJIN_LANG", help="ja (default) or en.")] = "ja",
    operator: Annotated[
        Path | None,
        typer.Option(
            "--operator",
            envvar="KOJIN_OPERATOR",
            help="The operator's key file (`kojin staff operator-key`); default: the local administrator's.",
        ),
    ] = None,
) -> None:
    set_language(lang)
    set_operator_file(operator)


def main() -> None:
    app()
