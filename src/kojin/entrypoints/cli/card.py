"""``kojin card``: cards at the counter — issue, status, rewrites, loss reports, PIN resets — and a card login."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kojin.app import Kojin
from kojin.card import reasons as card_reasons
from kojin.core.i18n import pick
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import PurposeOpt, act_as, counter_act
from kojin.entrypoints.cli.system import JsonOpt, open_system, print_record
from kojin.staff.domain import Role, StaffPrincipal

card_app = typer.Typer(
    help="個人番号カード — issue cards, report loss, reset PINs, authenticate.", no_args_is_help=True
)


def _card_record(state: Any) -> dict[str, Any]:
    return {
        "card_id": state.card_id,
        "status": state.status,
        "issued_on": state.issued_on.isoformat(),
        "expires_on": state.expires_on.isoformat(),
        "auth_serial": str(state.auth_serial),
        "auth_certificate": state.auth_status,
        "sign_serial": str(state.sign_serial) if state.sign_serial else None,
        "sign_certificate": state.sign_status,
        "pin_tries_left": state.pin_tries,
        "chip_stale": state.chip_stale,
    }


def _holder_act(kojin: Kojin, card_id: str, purpose: str | None, what: str) -> StaffPrincipal:
    """The operator at the counter of the card holder's municipality, the look at the holder recorded."""
    record = kojin.cards.records.get(card_id)
    holder = kojin.register.find_by_code(record.juminhyo_code) if record is not None else None
    if holder is None:  # an unknown card, or a staff card: the counter or J-LIS, no person to record
        return act_as(kojin, [Role.COUNTER_CLERK, Role.JLIS_OPERATOR])
    return counter_act(kojin, holder.resident_id, purpose, what)


@card_app.command("issue")
def card_issue(
    resident: Annotated[int, typer.Option("--resident", help="Resident id.")],
    pin: Annotated[
        str | None, typer.Option(help="4-digit PIN (利用者証明用・券面事項入力補助用); prompted when omitted.")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Signature password, 6–16 of A–Z 0–9 (15 and over); prompted when omitted.")
    ] = None,
    algorithm: Annotated[str | None, typer.Option(help="rsa2048 (as real cards) or p256 (fast demos).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue a My Number card: keys made on the card, certificates issued, PINs set."""

    def body() -> None:
        with open_system() as kojin:
            counter_act(kojin, resident, "個人番号カードの交付", "write")
            person = kojin.register.get(resident)
            auth_pin = pin or typer.prompt(pick("暗証番号（数字4桁）", "PIN (4 digits)"), hide_input=True)
            sign_pw = password
            from kojin.pki.domain import SIGNATURE_MIN_AGE

            if sign_pw is None and person.age_on(kojin.ca.today()) >= SIGNATURE_MIN_AGE:
                sign_pw = typer.prompt(
                    pick("署名用暗証番号（英大文字・数字6〜16文字）", "signature password"), hide_input=True
                )
            issued = kojin.cards.issue(resident, auth_pin=auth_pin, signature_password=sign_pw, algorithm=algorithm)
            state = kojin.cards.status(issued.card_id)
        print_record(_card_record(state), as_json, pick("カードを交付しました", "card issued"))

    run_command(body)


@card_app.command("status")
def card_status(
    card_id: Annotated[str | None, typer.Argument(help="Card id; or use --resident.")] = None,
    resident: Annotated[int | None, typer.Option("--resident", help="Every card of this resident.")] = None,
    purpose: PurposeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a card: certificates, expiry, PIN tries left (a look at its holder: give --purpose)."""

    def body() -> None:
        with open_system() as kojin:
            if resident is not None:
                counter_act(kojin, resident, purpose, "read")
                states = kojin.cards.cards_of(kojin.register.get(resident))
            elif card_id:
                _holder_act(kojin, card_id, purpose, "read")
                states = [kojin.cards.status(card_id)]
            else:
                raise card_reasons.WHICH.error()
        for state in states:
            print_record(_card_record(state), as_json, state.card_id)

    run_command(body)


@card_app.command("list")
def card_list() -> None:
    """Card files a reader can see in kojin-data/cards/."""

    def body() -> None:
        with open_system() as kojin:
            act_as(kojin, [Role.COUNTER_CLERK, Role.JLIS_OPERATOR])
            for card_id in kojin.cards.card_files():
                sys.stdout.write(card_id + "\n")

    run_command(body)


@card_app.command("revoke")
def card_revoke(card_id: str, as_json: JsonOpt = False) -> None:
    """Report a card lost (紛失届): both certificates are revoked at once."""

    def body() -> None:
        with open_system() as kojin:
            _holder_act(kojin, card_id, "個人番号カードの交付", "write")
            state = kojin.cards.report_lost(card_id)
        print_record(_card_record(state), as_json, pick("失効しました", "revoked"))

    run_command(body)


@card_app.command("rewrite")
def card_rewrite(card_id: str, as_json: JsonOpt = False) -> None:
    """Write the register's four basic items (after a move or a name change) to the card's chip."""

    def body() -> None:
        with open_system() as kojin:
            _holder_act(kojin, card_id, "券面記載事項の変更", "write")
            state = kojin.cards.rewrite(card_id)
        print_record(_card_record(state), as_json, pick("カードの券面事項を書き換えました", "card rewritten"))

    run_command(body)


@card_app.command("reset-pin")
def card_reset_pin(
    card_id: str,
    which: Annotated[str, typer.Option(help="auth, signature or card_info.")] = "auth",
    new_pin: Annotated[str | None, typer.Option(help="The new PIN; prompted when omitted.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reset a locked or forgotten PIN at the counter (暗証番号の初期化)."""

    def body() -> None:
        value = new_pin or typer.prompt(pick("新しい暗証番号", "new PIN"), hide_input=True)
        with open_system() as kojin:
            principal = _holder_act(kojin, card_id, "暗証番号の初期化", "write")
            state = kojin.cards.reset_pin(card_id, which, value, clerk=principal.staff_id)
        print_record(_card_record(state), as_json, pick("暗証番号を初期化しました", "PIN reset"))

    run_command(body)


@card_app.command("auth")
def card_auth(
    card_id: str,
    rp: Annotated[str, typer.Option(help="Relying party id (portal, eligibility, kiosk …).")] = "portal",
    pin: Annotated[str | None, typer.Option(help="4-digit PIN; prompted when omitted.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole card authentication: challenge, PIN, signature, verification."""
    from kojin.auth.service import sign_challenge_with_card
    from kojin.card.transport import InProcessTransport

    def body() -> None:
        value = pin or typer.prompt(pick("暗証番号（数字4桁）", "PIN (4 digits)"), hide_input=True)
        with open_system() as kojin:
            challenge = kojin.auth.challenge(rp)
            certificate, signature = sign_challenge_with_card(
                InProcessTransport(kojin.cards.load(card_id)), value, challenge.value
            )
            result = kojin.auth.verify(rp, challenge.value, certificate, signature)
        record = {
            "result": "ok",
            "rp": rp,
            "serial": str(result.serial),
            "subject_kind": result.subject.kind.value,
            "pseudonym": result.subject.pseudonym,
        }
        print_record(record, as_json, pick("本人確認に成功しました", "authenticated"))

    run_command(body)
