"""``kojin number``: validate an individual or corporate number, designate a new individual number."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kojin.core.i18n import pick
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import counter_act
from kojin.entrypoints.cli.system import console, open_system
from kojin.numbering.domain import mask_number, validate_corporate_number, validate_individual_number

number_app = typer.Typer(help="個人番号 — validate and change individual numbers.", no_args_is_help=True)


@number_app.command("validate")
def number_validate(
    number: Annotated[str, typer.Argument(help="The number, or - to read it from standard input.")],
    corporate: Annotated[bool, typer.Option(help="Validate a 13-digit corporate number.")] = False,
) -> None:
    """Check a number's form and check digit; exits 2 with the reason when it is wrong."""

    def body() -> None:
        value = sys.stdin.readline().strip() if number == "-" else number
        if corporate:
            validate_corporate_number(value)
        else:
            validate_individual_number(value)
        console.print(pick("正しい番号です。", "valid."))

    run_command(body)


@number_app.command("change")
def number_change(
    resident_id: int,
    reason: Annotated[str, typer.Option(help="Why: e.g. the number leaked (漏えい).")],
) -> None:
    """Designate a new number (番号法 §7(2)); the old one is retired for ever. Recorded under the operator."""

    def body() -> None:
        with open_system() as kojin:
            principal = counter_act(kojin, resident_id, "個人番号の変更", "write")
            new_number = kojin.register.change_number(resident_id, reason=reason, clerk=principal.staff_id)
            recalled = [
                c.card_id for c in kojin.cards.cards_of(kojin.register.get(resident_id)) if c.status == "to_return"
            ]
        console.print(
            pick(
                f"新しい個人番号を指定しました（通知書に記載: {mask_number(new_number)}）。",
                f"a new number was designated (printed on the notice: {mask_number(new_number)}).",
            )
        )
        for card_id in recalled:
            console.print(
                pick(
                    f"カード {card_id} は返納が必要です（個人番号は読み出せなくなりました）。"
                    "新しいカードを交付してください。",
                    f"card {card_id} must be returned (it no longer gives out the number); issue a new card.",
                )
            )

    run_command(body)
