"""The ``kojin`` command: set up, run and operate every party from a terminal.

Every failure a user can cause ends in one line naming the field and the
problem, and a non-zero exit; no traceback reaches the terminal unless
``KOJIN_DEBUG=1`` asks for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kojin.agency.cli import agency_app
from kojin.app import Kojin, build
from kojin.audit.cli import audit_app
from kojin.console import progress
from kojin.console import run_command as _run
from kojin.core.errors import InvalidInput, KojinError
from kojin.core.i18n import pick, set_language
from kojin.corporate.domain import corporation_record
from kojin.eligibility.cli import insurance_app  # clinics (issue 6)
from kojin.hub.demo import ensure_demo_agencies
from kojin.linkage.cli import audit_links, link_app  # linkage (issue 7)
from kojin.numbering.domain import mask_number, validate_corporate_number, validate_individual_number
from kojin.portal.cli import notice_app  # portal (issue 5)
from kojin.registry.domain import (
    Address,
    EventKind,
    PersonDetails,
    history_record,
    parse_date,
    parse_sex,
    resident_record,
)

console = Console(soft_wrap=True)

HELP = """kojin — マイナンバー制度のプライバシー・バイ・デザイン実装。

A privacy-by-design implementation of Japan's My Number system.
Start with `kojin up`; every command has --help.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None)
resident_app = typer.Typer(
    help="住民基本台帳 — the resident register (municipality counter work).", no_args_is_help=True
)
number_app = typer.Typer(help="個人番号 — validate and change individual numbers.", no_args_is_help=True)
corp_app = typer.Typer(help="法人番号 — the corporate-number register.", no_args_is_help=True)
app.add_typer(resident_app, name="resident")
app.add_typer(number_app, name="number")
app.add_typer(corp_app, name="corp")
card_app = typer.Typer(
    help="個人番号カード — issue cards, report loss, reset PINs, authenticate.", no_args_is_help=True
)
pki_app = typer.Typer(help="公的個人認証 — CA certificates and CRLs.", no_args_is_help=True)
app.add_typer(card_app, name="card")
app.add_typer(pki_app, name="pki")
# Information linkage (hub, agencies) and the exchange log.
app.add_typer(agency_app, name="agency")
app.add_typer(audit_app, name="audit")
app.add_typer(insurance_app, name="insurance")  # clinics (issue 6)
# Notices from agencies to a resident's portal (issue 5).
app.add_typer(notice_app, name="notice")
# Record linkage by the four basic items (issue 7): `kojin link …` and `kojin audit links`.
app.add_typer(link_app, name="link")
audit_app.command("links")(audit_links)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def main_options(
    lang: Annotated[str, typer.Option("--lang", envvar="KOJIN_LANG", help="ja (default) or en.")] = "ja",
) -> None:
    set_language(lang)


@contextmanager
def _system(migrate: bool = True) -> Iterator[Kojin]:
    kojin = build(migrate=migrate)
    try:
        yield kojin
    finally:
        kojin.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _print_record(data: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        _print_json(data)
        return
    table = Table(title=title, show_header=False)
    for key, value in data.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


def _optional_date(value: str | None, field: str) -> date | None:
    return parse_date(value, field) if value else None


# -- set-up and serving ----------------------------------------------------------


@app.command()
def init() -> None:
    """Create or migrate every party's store and the numbering key."""

    def body() -> None:
        with _system() as kojin:
            target = kojin.settings.database_url or str(kojin.settings.data_dir)
            console.print(pick(f"初期化しました: {target}", f"initialised: {target}"))

    _run(body)


_SEED_BATCH = 20_000
_SEED_NUMBERING_PROCESS = 200_000


def _seed(kojin: Kojin, residents: int, municipality: str, seed: int) -> int:
    from kojin.numbering.process import NumberingProcess
    from kojin.registry import postal
    from kojin.registry.synthetic import generate_households

    postal.municipality(municipality)
    households = generate_households(municipality, residents, seed=seed, today=date.today())

    def batches() -> Iterator[list[Any]]:
        batch: list[Any] = []
        size = 0
        for household in households:
            batch.append(household)
            size += len(household.members)
            if size >= _SEED_BATCH:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    # A large population is numbered by J-LIS in a process of its own, on the
    # second core; for a small one, starting that process costs more than it saves.
    numbering = NumberingProcess(kojin.settings) if residents >= _SEED_NUMBERING_PROCESS else None
    try:
        with progress() as bar:
            task = bar.add_task(pick("住民を登録中", "enrolling residents"), total=residents)
            enrolled = kojin.register.enroll_batches(
                batches(),
                municipality_code=municipality,
                validated=True,
                numbering_process=numbering,
                on_batch=lambda total: bar.update(task, completed=total),
            )
    finally:
        if numbering is not None:
            numbering.close()
    # Clinics (issue 6): every resident gets an insurer, a 資格確認書, claims and check-ups.
    from kojin.eligibility.seed import enrol_population

    enrol_population(kojin, seed=seed)
    return enrolled


@app.command()
def seed(
    residents: Annotated[int, typer.Option(min=1, max=50_000_000, help="How many residents to create.")] = 3000,
    municipality: Annotated[str, typer.Option(help="JIS X 0402 municipality code (5 digits).")] = "13105",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same people.")] = 1,
) -> None:
    """Build a realistic, reproducible synthetic municipality."""

    def body() -> None:
        with _system() as kojin:
            enrolled = _seed(kojin, residents, municipality, seed)
            console.print(pick(f"{enrolled} 人を登録しました。", f"enrolled {enrolled} residents."))

    _run(body)


DEMO_PIN = "1234"
DEMO_PASSWORD = "ABC123"


def _demo_cards(kojin: Kojin, share: float = 0.05) -> dict[str, str]:
    """Cards for part of the demo population, and one demo card whose PIN is printed.

    The bulk cards use P-256 keys (fast to make); the printed demo card is
    RSA-2048, as real cards are. Its details are kept in kojin-data/demo-card.json
    for the next `kojin up`, and for nothing else: a demo, not a practice.
    """
    record = kojin.settings.data_dir / "demo-card.json"
    if record.exists():
        return dict(json.loads(record.read_text(encoding="utf-8")))
    from kojin.pki.domain import SIGNATURE_MIN_AGE
    from kojin.registry.domain import Status

    today = kojin.ca.today()
    adults = [r for r in kojin.register.iter_residents(status=Status.RESIDENT) if r.age_on(today) >= SIGNATURE_MIN_AGE]
    if not adults:
        raise KojinError("demo.empty", "デモ用の住民がいません。", "There are no demo residents.", field="residents")
    chosen = adults[:: max(1, int(1 / share))]
    with progress() as bar:
        task = bar.add_task(pick("カードを交付中", "issuing cards"), total=len(chosen))
        demo = None
        for n, resident in enumerate(chosen):
            issued = kojin.cards.issue(
                resident.resident_id,
                auth_pin=DEMO_PIN,
                signature_password=DEMO_PASSWORD,
                algorithm="rsa2048" if n == 0 else "p256",
                today=today,
            )
            demo = demo or (issued, resident)
            bar.update(task, advance=1)
    assert demo is not None
    data = {
        "card_id": demo[0].card_id,
        "resident_id": str(demo[1].resident_id),
        "name": demo[1].name,
        "pin": DEMO_PIN,
        "password": DEMO_PASSWORD,
    }
    record.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    residents: Annotated[int, typer.Option(help="Demo residents to create when the register is empty.")] = 3000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="uvicorn worker processes: 1, because the hub and its exchange log have one writer.",
        ),
    ] = 1,
) -> None:
    """Initialise, seed a demo municipality when empty, and serve every party."""
    import uvicorn

    def prepare() -> None:
        if workers > 1:
            # Each worker would hold its own hub: request ids in flight are
            # reserved in one process's memory, and the log's tree is one
            # writer's; two hubs could both answer one request id, and their
            # log appends would clash. See docs/operations.md.
            raise InvalidInput(
                "serve.one_worker",
                "kojin up は1プロセスで動かします（情報提供ネットワークシステムと交換ログの書き手は一つです）。",
                "kojin up serves one process: the hub and its exchange log have a single writer.",
                field="workers",
            )
        with _system() as kojin:
            if kojin.register.count() == 0:
                _seed(kojin, residents, kojin.settings.municipality_code, 1)
            demo = _demo_cards(kojin)
            ensure_demo_agencies(kojin)
            # Clinics (issue 6): card holders' 初回登録 and the demo clinics' terminal keys.
            from kojin.eligibility.seed import demo_clinics, register_card_holders

            register_card_holders(kojin)
            clinic = demo_clinics(kojin)[0]
            base = f"http://{host}:{port}"
            console.print(pick("kojin を起動します:", "kojin is starting:"))
            console.print(f"  {pick('入口', 'landing page')}: {base}/")
            console.print(f"  {pick('API 文書', 'API docs')}:    {base}/docs")
            card, name, pin, password = demo["card_id"], demo["name"], demo["pin"], demo["password"]
            console.print(
                pick(
                    f"  デモ用カード: {card}（{name}）暗証番号 {pin}・署名用 {password}",
                    f"  demo card: {card} ({name}) PIN {pin}, signature password {password}",
                )
            )
            console.print(
                pick(
                    f"  受付端末: {base}/clinic/ 医療機関コード {clinic['clinic_id']}・端末キー {clinic['key']}",
                    f"  clinic terminal: {base}/clinic/ code {clinic['clinic_id']}, key {clinic['key']}",
                )
            )

    _run(prepare)
    uvicorn.run("kojin.web.factory:app", host=host, port=port, workers=workers, factory=True, log_level="info")


# -- residents ---------------------------------------------------------------------


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
            _optional_date(stay_until, "period_of_stay_until"),
        )
        with _system() as kojin:
            registration = kojin.register.register(
                details,
                municipality_code=municipality,
                kind=kind,
                household_id=household,
                relationship=relationship,
                juminhyo_code=juminhyo_code,
            )
        record = resident_record(registration.resident)
        record["number_notice"] = mask_number(registration.number_notice)
        _print_record(record, as_json, pick("登録しました", "registered"))

    _run(body)


@resident_app.command("show")
def resident_show(resident_id: int, history: bool = False, as_json: JsonOpt = False) -> None:
    """Show one resident (and with --history, their 異動履歴)."""

    def body() -> None:
        with _system() as kojin:
            record = resident_record(kojin.register.get(resident_id))
            if history:
                record["history"] = [history_record(e) for e in kojin.register.history_of(resident_id)]
        if as_json:
            _print_json(record)
            return
        entries: list[dict[str, Any]] = record.pop("history", None) or []  # type: ignore[assignment]
        _print_record(record, False, pick(f"住民 {resident_id}", f"resident {resident_id}"))
        if entries:
            table = Table(pick("異動履歴", "history"), "")
            for e in entries:
                table.add_row(e["effective_date"], f"{e['label']} {json.dumps(e['details'], ensure_ascii=False)}")
            console.print(table)

    _run(body)


@resident_app.command("list")
def resident_list(
    municipality: Annotated[str | None, typer.Option(help="Only this municipality.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line (streamed).")] = False,
) -> None:
    """List residents; --json streams one JSON object per line."""

    def body() -> None:
        with _system() as kojin:
            table = Table(
                "id",
                pick("氏名", "name"),
                pick("フリガナ", "kana"),
                pick("生年月日", "born"),
                pick("住所", "address"),
                pick("状態", "status"),
            )
            for n, resident in enumerate(kojin.register.iter_residents(municipality_code=municipality)):
                if limit is not None and n >= limit:
                    break
                if as_json:
                    sys.stdout.write(json.dumps(resident_record(resident), ensure_ascii=False) + "\n")
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

    _run(body)


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
        with _system() as kojin:
            moved = kojin.register.move_within(
                resident_id,
                Address(postal_code, "", "", town, block, building),
                effective_date=_optional_date(effective_date, "effective_date"),
                whole_household=whole_household,
            )
        for r in moved:
            _print_record(resident_record(r), as_json, pick("転居しました", "moved"))

    _run(body)


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
        with _system() as kojin:
            moved = kojin.register.move_out(
                resident_id,
                destination=destination,
                effective_date=_optional_date(effective_date, "effective_date"),
                whole_household=whole_household,
            )
        for r in moved:
            _print_record(resident_record(r), as_json, pick("転出しました", "moved out"))

    _run(body)


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
        with _system() as kojin:
            r = kojin.register.change_name(
                resident_id, name=name, kana=kana, effective_date=_optional_date(effective_date, "effective_date")
            )
        _print_record(resident_record(r), as_json, pick("氏名を変更しました", "renamed"))

    _run(body)


@resident_app.command("death")
def resident_death(
    resident_id: int,
    effective_date: Annotated[str, typer.Option(help="Date of death, YYYY-MM-DD.")],
    as_json: JsonOpt = False,
) -> None:
    """Record a death (死亡届)."""

    def body() -> None:
        with _system() as kojin:
            r = kojin.register.record_death(resident_id, effective_date=parse_date(effective_date, "effective_date"))
        _print_record(resident_record(r), as_json, pick("死亡を記録しました", "death recorded"))

    _run(body)


@resident_app.command("residence-status")
def resident_residence_status(
    resident_id: int,
    status: Annotated[str, typer.Option(help="New 在留資格.")],
    stay_until: Annotated[str | None, typer.Option(help="End of the period of stay.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a foreign resident's residence status (在留資格変更)."""

    def body() -> None:
        with _system() as kojin:
            r = kojin.register.change_residence_status(
                resident_id,
                residence_status=status,
                period_of_stay_until=_optional_date(stay_until, "period_of_stay_until"),
            )
        _print_record(resident_record(r), as_json, pick("在留資格を変更しました", "residence status changed"))

    _run(body)


# -- numbers -----------------------------------------------------------------------


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

    _run(body)


@number_app.command("change")
def number_change(
    resident_id: int,
    reason: Annotated[str, typer.Option(help="Why: e.g. the number leaked (漏えい).")],
    clerk: Annotated[str, typer.Option(help="Who designates the new number.")] = "clerk",
) -> None:
    """Designate a new number (番号法 §7(2)); the old one is retired for ever."""

    def body() -> None:
        with _system() as kojin:
            new_number = kojin.register.change_number(resident_id, reason=reason, clerk=clerk)
        console.print(
            pick(
                f"新しい個人番号を指定しました（通知書に記載: {mask_number(new_number)}）。",
                f"a new number was designated (printed on the notice: {mask_number(new_number)}).",
            )
        )

    _run(body)


# -- corporations --------------------------------------------------------------------


@corp_app.command("add")
def corp_add(
    name: Annotated[str, typer.Option()],
    furigana: Annotated[str, typer.Option(help="Full-width katakana.")],
    kind: Annotated[str, typer.Option(help="法人種別: 301 株式会社, 305 合同会社, …")],
    postal_code: Annotated[str, typer.Option()],
    street: Annotated[str, typer.Option(help="Street address after the town.")],
    as_json: JsonOpt = False,
) -> None:
    """Register a corporation and assign its corporate number."""

    def body() -> None:
        with _system() as kojin:
            corp = kojin.corporate.register(
                name=name, furigana=furigana, kind=kind, postal_code=postal_code, street=street
            )
        _print_record(corporation_record(corp), as_json, pick("登録しました", "registered"))

    _run(body)


@corp_app.command("show")
def corp_show(corporate_number: str, as_json: JsonOpt = False) -> None:
    """Look a corporation up by its number."""

    def body() -> None:
        with _system() as kojin:
            corp = kojin.corporate.get(corporate_number)
        _print_record(corporation_record(corp), as_json, corporate_number)

    _run(body)


@corp_app.command("search")
def corp_search(
    name: str,
    mode: Annotated[int, typer.Option(help="1 prefix match, 2 partial match.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Search corporations by name."""

    def body() -> None:
        with _system() as kojin:
            found = kojin.corporate.search(name, mode=mode)
        if as_json:
            for corp in found:
                _print_json(corporation_record(corp))
            return
        table = Table(pick("法人番号", "number"), pick("名称", "name"), pick("所在地", "address"))
        for corp in found:
            table.add_row(corp.corporate_number, corp.name, corp.address)
        console.print(table)

    _run(body)


# -- cards and PKI -------------------------------------------------------------------


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
    }


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
        with _system() as kojin:
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
        _print_record(_card_record(state), as_json, pick("カードを交付しました", "card issued"))

    _run(body)


@card_app.command("status")
def card_status(
    card_id: Annotated[str | None, typer.Argument(help="Card id; or use --resident.")] = None,
    resident: Annotated[int | None, typer.Option("--resident", help="Every card of this resident.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a card: certificates, expiry, PIN tries left."""

    def body() -> None:
        with _system() as kojin:
            if resident is not None:
                states = kojin.cards.cards_of(kojin.register.get(resident))
            elif card_id:
                states = [kojin.cards.status(card_id)]
            else:
                raise KojinError(
                    "card.which",
                    "カードIDか --resident を指定してください。",
                    "Give a card id or --resident.",
                    field="card_id",
                )
        for state in states:
            _print_record(_card_record(state), as_json, state.card_id)

    _run(body)


@card_app.command("list")
def card_list() -> None:
    """Card files a reader can see in kojin-data/cards/."""

    def body() -> None:
        with _system() as kojin:
            for card_id in kojin.cards.card_files():
                sys.stdout.write(card_id + "\n")

    _run(body)


@card_app.command("revoke")
def card_revoke(card_id: str, as_json: JsonOpt = False) -> None:
    """Report a card lost (紛失届): both certificates are revoked at once."""

    def body() -> None:
        with _system() as kojin:
            state = kojin.cards.report_lost(card_id)
        _print_record(_card_record(state), as_json, pick("失効しました", "revoked"))

    _run(body)


@card_app.command("reset-pin")
def card_reset_pin(
    card_id: str,
    clerk: Annotated[str, typer.Option(help="Who resets it at the counter (recorded).")],
    which: Annotated[str, typer.Option(help="auth, signature or card_info.")] = "auth",
    new_pin: Annotated[str | None, typer.Option(help="The new PIN; prompted when omitted.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reset a locked or forgotten PIN at the counter (暗証番号の初期化)."""

    def body() -> None:
        value = new_pin or typer.prompt(pick("新しい暗証番号", "new PIN"), hide_input=True)
        with _system() as kojin:
            state = kojin.cards.reset_pin(card_id, which, value, clerk=clerk)
        _print_record(_card_record(state), as_json, pick("暗証番号を初期化しました", "PIN reset"))

    _run(body)


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
        with _system() as kojin:
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
        _print_record(record, as_json, pick("本人確認に成功しました", "authenticated"))

    _run(body)


@pki_app.command("export")
def pki_export(out: Annotated[Path, typer.Option(help="Directory to write the CA certificates (PEM) to.")]) -> None:
    """Write the root and issuing CA certificates as PEM files."""
    from kojin.pki.domain import CA_NAMES

    def body() -> None:
        out.mkdir(parents=True, exist_ok=True)
        with _system() as kojin:
            for name in CA_NAMES:
                (out / f"{name}.pem").write_bytes(kojin.ca.ca_pem(name))
                console.print(str(out / f"{name}.pem"))

    _run(body)


@pki_app.command("crl")
def pki_crl(
    ca: Annotated[str, typer.Option(help="Issuing CA: auth or sign.")] = "auth",
    out: Annotated[Path | None, typer.Option(help="Write the DER CRL here; PEM to stdout when omitted.")] = None,
) -> None:
    """The current CRL of an issuing CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def body() -> None:
        with _system() as kojin:
            der = kojin.ca.crl_der(ca)
        if out:
            out.write_bytes(der)
            console.print(str(out))
        else:
            crl = x509.load_der_x509_crl(der)
            sys.stdout.write(crl.public_bytes(serialization.Encoding.PEM).decode())

    _run(body)


def main() -> None:
    app()
