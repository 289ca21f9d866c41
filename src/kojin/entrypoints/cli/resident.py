"""``kojin resident``: the resident register at the municipality counter (住民基本台帳)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from kojin.core.i18n import pick
from kojin.core.japan import parse_date
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import PurposeOpt, act_as, acting, counter_act
from kojin.entrypoints.cli.system import JsonOpt, console, open_system, optional_date, print_json, print_record
from kojin.numbering.domain import mask_number
from kojin.registry.domain import (
    Address,
    EventKind,
    PersonDetails,
    history_record,
    parse_sex,
    resident_record,
)
from kojin.registry.export import export_residents
from kojin.staff.domain import Organisation, OrganisationKind, Role

resident_app = typer.Typer(
    help="住民基本台帳 — the resident register (municipality counter work).", no_args_is_help=True
)


@resident_app.command("add")
def resident_add(
    name: Annotated[str, typer.Option(help="氏名, exactly as written (variant kanji kept).")],
    kana: Annotated[str, typer.Option(help="フリガナ in full-width katakana.")],
    sex: Annotated[str, typer.Option(help="1 male, 2 female.")],
    birth_date: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    postal_code: Annotated[str, typer.Option(help="7-digit postal code.")],
    block: Annotated[str, typer.Option(help="丁目・番地・号, e.g. 4-15-14.")],
    municipality: Annotated[str, typer.Option(help="Municipality code.")] = "13105",
    town: Annotated[str, typer.Option(help="町域; filled from the postal code when empty.")] = "",
    building: Annotated[str, typer.Option(help="Building and room.")] = "",
    kind: Annotated[EventKind, typer.Option(help="birth or move_in.")] = EventKind.BIRTH,
    household: Annotated[int | None, typer.Option(help="Join this household.")] = None,
    relationship: Annotated[str, typer.Option(help="続柄 to the head.")] = "世帯主",
    nationality: Annotated[str, typer.Option(help="ISO 3166 alpha-2.")] = "JP",
    residence_status: Annotated[str | None, typer.Option(help="在留資格 for foreign residents.")] = None,
    stay_until: Annotated[str | None, typer.Option(help="End of the period of stay, YYYY-MM-DD.")] = None,
    juminhyo_code: Annotated[str | None, typer.Option(help="Existing 住民票コード on a move-in.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a birth or a move-in (出生届・転入届)."""

    def body() -> None:
        details = PersonDetails(
            name,
            kana,
            parse_sex(sex),
            parse_date(birth_date, "birth_date"),
            Address(postal_code, "", "", town, block, building),
            nationality,
            residence_status,
            optional_date(stay_until, "period_of_stay_until"),
        )
        with open_system() as kojin:
            principal = act_as(kojin, [Role.COUNTER_CLERK], Organisation(OrganisationKind.MUNICIPALITY, municipality))
            registration = kojin.register.register(
                details,
                municipality_code=municipality,
                kind=kind,
                household_id=household,
                relationship=relationship,
                juminhyo_code=juminhyo_code,
                clerk=principal.staff_id,
            )
            purpose = "出生届" if kind is EventKind.BIRTH else "転入届"
            kojin.staff.record_access(principal, str(registration.resident.resident_id), purpose, "write")
        record = resident_record(registration.resident)
        record["number_notice"] = mask_number(registration.number_notice)
        print_record(record, as_json, pick("登録しました", "registered"))

    run_command(body)


@resident_app.command("show")
def resident_show(
    resident_id: int, purpose: PurposeOpt = None, history: bool = False, as_json: JsonOpt = False
) -> None:
    """Show one resident (and with --history, their 異動履歴), for a stated purpose; the person sees the look."""

    def body() -> None:
        with open_system() as kojin:
            counter_act(kojin, resident_id, purpose, "read")
            record = resident_record(kojin.register.get(resident_id))
            if history:
                record["history"] = [history_record(e) for e in kojin.register.history_of(resident_id)]
        if as_json:
            print_json(record)
            return
        entries: list[dict[str, Any]] = record.pop("history", None) or []  # type: ignore[assignment]
        print_record(record, False, pick(f"住民 {resident_id}", f"resident {resident_id}"))
        if entries:
            table = Table(pick("異動履歴", "history"), "")
            for e in entries:
                table.add_row(e["effective_date"], f"{e['label']} {json.dumps(e['details'], ensure_ascii=False)}")
            console.print(table)

    run_command(body)


@resident_app.command("list")
def resident_list(
    municipality: Annotated[str, typer.Option(help="The municipality whose residents to list.")] = "13105",
    purpose: PurposeOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many; over 20 needs --bulk-id.")] = 20,
    after: Annotated[int, typer.Option(min=0, help="Start after this resident id.")] = 0,
    bulk_id: Annotated[int | None, typer.Option(help="An approved bulk request (two-person rule).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line (streamed).")] = False,
) -> None:
    """List a municipality's residents, every one recorded as shown; more than 20 needs a second person's approval."""

    def body() -> None:
        with open_system() as kojin:
            principal = act_as(kojin, [Role.COUNTER_CLERK], Organisation(OrganisationKind.MUNICIPALITY, municipality))
            shown = []
            for resident in kojin.register.iter_residents(municipality_code=municipality, after=after, batch=limit):
                shown.append(resident)
                if len(shown) >= limit:
                    break
            kojin.staff.record_shown(principal, [str(r.resident_id) for r in shown], purpose, "search", bulk_id=bulk_id)
            table = Table(
                "id",
                pick("氏名", "name"),
                pick("フリガナ", "kana"),
                pick("生年月日", "born"),
                pick("住所", "address"),
                pick("状態", "status"),
            )
            for resident in shown:
                if as_json:
                    print_json(resident_record(resident))
                else:
                    table.add_row(
                        str(resident.resident_id),
                        resident.name,
                        resident.kana,
                        resident.birth_date.isoformat(),
                        resident.address.one_line(),
                        resident.status.value,
                    )
            if not as_json:
                console.print(table)

    run_command(body)


@resident_app.command("move")
def resident_move(
    resident_id: int,
    postal_code: Annotated[str, typer.Option()],
    block: Annotated[str, typer.Option()],
    town: Annotated[str, typer.Option()] = "",
    building: Annotated[str, typer.Option()] = "",
    effective_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; today when omitted.")] = None,
    whole_household: Annotated[bool, typer.Option(help="Move every member of the household.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Move within the municipality (転居)."""

    def body() -> None:
        with open_system() as kojin:
            operator = counter_act(kojin, resident_id, "転居届", "write")
            moved = kojin.register.move_within(
                resident_id,
                Address(postal_code, "", "", town, block, building),
                effective_date=optional_date(effective_date, "effective_date"),
                whole_household=whole_household,
                clerk=operator.staff_id,
            )
        for r in moved:
            print_record(resident_record(r), as_json, pick("転居しました", "moved"))

    run_command(body)


@resident_app.command("move-out")
def resident_move_out(
    resident_id: int,
    destination: Annotated[str, typer.Option(help="Where the person moves to.")],
    effective_date: Annotated[str | None, typer.Option()] = None,
    whole_household: Annotated[bool, typer.Option()] = False,
    as_json: JsonOpt = False,
) -> None:
    """Move out of the municipality (転出)."""

    def body() -> None:
        with open_system() as kojin:
            operator = counter_act(kojin, resident_id, "転出届", "write")
            moved = kojin.register.move_out(
                resident_id,
                destination=destination,
                effective_date=optional_date(effective_date, "effective_date"),
                whole_household=whole_household,
                clerk=operator.staff_id,
            )
        for r in moved:
            print_record(resident_record(r), as_json, pick("転出しました", "moved out"))

    run_command(body)


@resident_app.command("rename")
def resident_rename(
    resident_id: int,
    name: Annotated[str, typer.Option()],
    kana: Annotated[str, typer.Option()],
    effective_date: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a resident's name (氏名変更)."""

    def body() -> None:
        with open_system() as kojin:
            operator = counter_act(kojin, resident_id, "氏名の変更", "write")
            r = kojin.register.change_name(
                resident_id,
                name=name,
                kana=kana,
                effective_date=optional_date(effective_date, "effective_date"),
                clerk=operator.staff_id,
            )
        print_record(resident_record(r), as_json, pick("氏名を変更しました", "renamed"))

    run_command(body)


@resident_app.command("death")
def resident_death(
    resident_id: int,
    effective_date: Annotated[str, typer.Option(help="Date of death, YYYY-MM-DD.")],
    as_json: JsonOpt = False,
) -> None:
    """Record a death (死亡届)."""

    def body() -> None:
        with open_system() as kojin:
            operator = counter_act(kojin, resident_id, "死亡届", "write")
            r = kojin.register.record_death(
                resident_id, effective_date=parse_date(effective_date, "effective_date"), clerk=operator.staff_id
            )
        print_record(resident_record(r), as_json, pick("死亡を記録しました", "death recorded"))

    run_command(body)


@resident_app.command("residence-status")
def resident_residence_status(
    resident_id: int,
    status: Annotated[str, typer.Option(help="New 在留資格.")],
    stay_until: Annotated[str | None, typer.Option(help="End of the period of stay.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a foreign resident's residence status (在留資格変更)."""

    def body() -> None:
        with open_system() as kojin:
            operator = counter_act(kojin, resident_id, "在留資格等の変更", "write")
            r = kojin.register.change_residence_status(
                resident_id,
                residence_status=status,
                period_of_stay_until=optional_date(stay_until, "period_of_stay_until"),
                clerk=operator.staff_id,
            )
        print_record(resident_record(r), as_json, pick("在留資格を変更しました", "residence status changed"))

    run_command(body)


@resident_app.command("export")
def resident_export(
    bulk_id: Annotated[int, typer.Option(help="The approved bulk request (two-person rule).")],
    purpose: PurposeOpt = None,
    after: Annotated[int, typer.Option(min=0, help="Start after this resident id.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Export the own municipality's residents to the request's recipient, as a file encrypted to their key."""

    def body() -> None:
        with open_system() as kojin:
            done = export_residents(kojin.register, kojin.staff, acting(kojin), bulk_id, purpose, after)
            assert done.export is not None and kojin.staff.exports_dir is not None
            record = {
                "file": str(kojin.staff.exports_dir / done.export.file_name),
                "rows": done.export.rows,
                "sha256": done.export.sha256,
                "recipient": done.recipient,
            }
        print_record(record, as_json, pick("暗号化して書き出しました", "exported, encrypted"))

    run_command(body)
