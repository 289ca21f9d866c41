"""``kojin init``, ``kojin seed`` and ``kojin up``: make the stores, fill a demo municipality, serve every party."""

from __future__ import annotations

import os
import resource
from typing import Annotated, TypedDict

import typer
from rich.table import Column, Table

from kojin.app import Kojin
from kojin.core import reasons as core_reasons
from kojin.core.config import DEMO_CARDS_ENV, env_flag, is_loopback
from kojin.core.i18n import pick
from kojin.demo.staff import DemoStaff
from kojin.entrypoints.cli.console import progress, run_command
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import console, open_system
from kojin.reader.service import group_card_id
from kojin.staff.domain import ROLE_LABELS, Role


def init() -> None:
    """Create or migrate every party's store and keys; on the embedded default, the local administrator's key file."""

    def body() -> None:
        with open_system() as kojin:
            _warn_at_rest(kojin)
            target = kojin.settings.database_url or str(kojin.settings.data_dir)
            console.print(pick(f"初期化しました: {target}", f"initialised: {target}"))
            # On PostgreSQL too: the deployer's first operator, who registers the organisations' staff.
            key = kojin.staff.ensure_local_admin(kojin.settings.data_dir)
            console.print(pick(f"端末管理者の鍵: {key}", f"local administrator's key: {key}"))

    run_command(body)


def _warn_at_rest(kojin: Kojin) -> None:
    """Say loudly what at start leaves data open: files other users could read (now fixed), keys unencrypted."""
    import os

    from kojin.audit.keys import PASSPHRASE_ENV as AUDIT_PASSPHRASE_ENV
    from kojin.core.key_passphrase import KEY_PASSPHRASE_ENV, key_passphrase

    fixed = kojin.db.fixed_files
    if fixed:
        where = kojin.settings.data_dir
        console.print(
            pick(
                f"[yellow]注意: {where} の {len(fixed)} 個のファイルが他の利用者から読める状態でした。"
                "0700/0600 に直しました。[/yellow]",
                f"[yellow]warning: {len(fixed)} file(s) under {where} were readable by other users; "
                "now 0700/0600.[/yellow]",
            )
        )
    if key_passphrase() is None:
        audit_only = bool(os.environ.get(AUDIT_PASSPHRASE_ENV))
        console.print(
            pick(
                f"[bold yellow]注意: 鍵は暗号化されずに保存されています（デモ用の既定）。本番では {KEY_PASSPHRASE_ENV} "
                f"を設定してください{'（交換ログの鍵のみ暗号化）' if audit_only else ''}。[/bold yellow]",
                f"[bold yellow]warning: keys are stored unencrypted (the demo default)"
                f"{' except the exchange-log key' if audit_only else ''}; "
                f"set {KEY_PASSPHRASE_ENV} outside a demo.[/bold yellow]",
            )
        )


def _seed(
    kojin: Kojin,
    residents: int,
    municipality: str,
    seed: int,
    *,
    batch: int | None = None,
    numbering_process: bool | None = None,
) -> int:
    from kojin.demo.municipality import SEED_BATCH, seed_municipality

    with progress() as bar:
        task = bar.add_task(pick("住民を登録中", "enrolling residents"), total=residents)
        return seed_municipality(
            kojin,
            residents,
            municipality,
            seed,
            on_progress=lambda total: bar.update(task, completed=total),
            batch=batch or SEED_BATCH,
            numbering_process=numbering_process,
        )


def seed(
    residents: Annotated[int, typer.Option(min=1, max=50_000_000, help="How many residents to create.")] = 3000,
    municipality: Annotated[str, typer.Option(help="JIS X 0402 municipality code (5 digits).")] = "13105",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same people.")] = 1,
    batch: Annotated[
        int | None, typer.Option(min=1, help="Residents per register transaction (default 20,000).")
    ] = None,
    numbering_process: Annotated[
        bool | None,
        typer.Option(
            "--numbering-process/--numbering-in-process",
            help="J-LIS numbers in a process of its own (default: from 200,000 residents).",
        ),
    ] = None,
) -> None:
    """Build a realistic, reproducible synthetic municipality.

    The same command again resumes a run that was interrupted, and enrols nobody twice.
    """

    def body() -> None:
        with open_system() as kojin:
            # Invented people, enrolled by the installation's own administrators only.
            act_as(kojin, [Role.SYSADMIN])
            enrolled = _seed(kojin, residents, municipality, seed, batch=batch, numbering_process=numbering_process)
            console.print(pick(f"{enrolled} 人を登録しました。", f"enrolled {enrolled} residents."))

    run_command(body)


def _seed_wanted(kojin: Kojin, residents: int) -> bool:
    """Seed when the register is empty, or resume the demo seed an earlier ``kojin up`` did not finish."""
    from kojin.demo.municipality import seed_run

    _, done = kojin.register.enrolment_progress(seed_run(kojin.settings.municipality_code, 1, residents))
    return kojin.register.count() == 0 or 0 < done < residents


def _demo_cards(kojin: Kojin) -> dict[str, str]:
    from kojin.demo.cards import demo_cards

    with progress() as bar:
        task = bar.add_task(pick("カードを交付中", "issuing cards"), total=None)
        return demo_cards(
            kojin,
            on_start=lambda total: bar.update(task, total=total),
            on_card=lambda: bar.update(task, advance=1),
        )


def _print_staff(base: str, staff: list[DemoStaff]) -> None:
    """How to log in as each demo staff member: the reader, their card, its PIN."""
    console.print(
        pick(
            f"  職員ログイン: {base}/staff/login（カードを読取機に挿して暗証番号）",
            f"  staff login: {base}/staff/login (insert the card in the reader, then the PIN)",
        )
    )
    table = Table(
        pick("役割", "role"),
        pick("職員", "staff"),
        pick("組織", "organisation"),
        # Kept on one line: the id is typed into the reader as printed.
        Column(pick("カードID", "card id"), no_wrap=True),
        "PIN",
    )
    for member in staff:
        label = ROLE_LABELS[member.role]
        table.add_row(
            pick(label.ja, label.en),
            member.display_name,
            str(member.organisation),
            group_card_id(member.card_id),
            member.pin,
        )
    console.print(table)


def reader_lists_cards(host: str, asked: bool) -> bool:
    """Whether the reader will list every card: only when asked and only on a loopback address."""
    return asked and is_loopback(host)


def _print_reader(base: str, host: str, asked: bool, demo: dict[str, str]) -> None:
    """The demo card to type into the reader, and whether the reader lists every card (loudly when refused)."""
    card, name, pin, password = group_card_id(demo["card_id"]), demo["name"], demo["pin"], demo["password"]
    console.print(
        pick(
            f"  デモ用カード: {card}（{name}）暗証番号 {pin}・署名用 {password}",
            f"  demo card: {card} ({name}) PIN {pin}, signature password {password}",
        )
    )
    console.print(
        pick(
            f"  カードリーダー: {base}/reader/ の「カードID」にカードIDを入力して挿入します",
            f"  card reader: {base}/reader/ — type the card id into カードID (Card ID) to insert the card",
        )
    )
    if reader_lists_cards(host, asked):
        console.print(
            pick(
                "  [yellow]デモモード: カードリーダーがすべてのカードを一覧します（このパソコンからのみ）[/yellow]",
                "  [yellow]demo mode: the card reader lists every card (this computer only)[/yellow]",
            )
        )
    elif asked:
        console.print(
            pick(
                f"[bold red]警告: {host} は他のコンピューターから届くアドレスです。カードの一覧（デモモード）は"
                "表示しません。カードはカードIDで挿入します。[/bold red]",
                f"[bold red]warning: {host} can be reached from other computers; the reader's list of every card "
                "(demo mode) stays off, and a card goes in only by its id.[/bold red]",
            )
        )
    else:
        console.print(
            pick(
                "  カードの一覧: 表示しません（--demo-cards で、このパソコンのみのデモ用に表示）",
                "  list of cards: off (--demo-cards shows it, for a demo on this computer only)",
            )
        )


class ServerLimits(TypedDict):
    """uvicorn's settings that bound what clients may hold (keyword arguments of ``uvicorn.run``)."""

    timeout_keep_alive: int
    limit_concurrency: int
    h11_max_incomplete_event_size: int
    backlog: int
    timeout_graceful_shutdown: int


# What one slow or greedy client may hold (see docs/operations.md, "Limits on requests").
SERVER_LIMITS: ServerLimits = {
    # An idle keep-alive connection is closed after 5 s.
    "timeout_keep_alive": 5,
    # Above this many open connections and tasks, new requests get 503 at once instead of queueing.
    "limit_concurrency": 2048,
    # The request line and headers of one request, in bytes: beyond it h11 drops the connection.
    "h11_max_incomplete_event_size": 16 * 1024,
    # Pending connections the kernel holds before accept.
    "backlog": 1024,
    # Graceful shutdown waits this long for requests in flight.
    "timeout_graceful_shutdown": 10,
}

# Files the server keeps for itself beside its connections: stores, logs, card files.
_FILES_KEPT = 128


def server_limits() -> ServerLimits:
    """:data:`SERVER_LIMITS`, with the connection cap kept below what the process may open.

    Many machines start a process with a soft limit of 1,024 open files. Every
    connection holds one, so 1,100 slow clients used them all and the server
    could accept no one else, not even to answer 503. The soft limit is raised
    to the hard one, and the cap is set under it, so the server always has a
    file to accept with and answers 503 beyond the cap instead of going silent.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    room = SERVER_LIMITS["limit_concurrency"] if soft == resource.RLIM_INFINITY else soft - _FILES_KEPT
    return {**SERVER_LIMITS, "limit_concurrency": max(64, min(SERVER_LIMITS["limit_concurrency"], room))}


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
    demo_cards: Annotated[
        bool,
        typer.Option(
            "--demo-cards",
            help="The card reader lists every card (demo mode; refused unless --host is a loopback address). "
            f"Also {DEMO_CARDS_ENV}=1.",
        ),
    ] = False,
) -> None:
    """Initialise, seed a demo municipality when empty, and serve every party."""
    import uvicorn

    asked = demo_cards or env_flag(DEMO_CARDS_ENV)

    def prepare() -> None:
        if workers > 1:
            # Each worker would hold its own hub: request ids in flight are
            # reserved in one process's memory, and the log's tree is one
            # writer's; two hubs could both answer one request id, and their
            # log appends would clash. See docs/operations.md.
            raise core_reasons.SERVE_ONE_WORKER.error()
        from kojin.demo.agencies import ensure_demo_agencies
        from kojin.demo.insurance import demo_clinics, register_card_holders
        from kojin.demo.staff import demo_staff

        with open_system() as kojin:
            _warn_at_rest(kojin)
            if _seed_wanted(kojin, residents):
                _seed(kojin, residents, kojin.settings.municipality_code, 1)
            demo = _demo_cards(kojin)
            ensure_demo_agencies(kojin)
            staff = demo_staff(kojin)
            if not kojin.settings.database_url:
                kojin.staff.ensure_local_admin(kojin.settings.data_dir)
            # Card holders' 初回登録 and the demo clinics' terminal keys.
            register_card_holders(kojin)
            clinic = demo_clinics(kojin)[0]
            base = f"http://{host}:{port}"
            console.print(pick("kojin を起動します:", "kojin is starting:"))
            console.print(f"  {pick('入口', 'landing page')}: {base}/")
            console.print(f"  {pick('API 文書', 'API docs')}:    {base}/docs")
            _print_reader(base, host, asked, demo)
            console.print(
                pick(
                    f"  受付端末: {base}/clinic/ 医療機関コード {clinic['clinic_id']}・端末キー {clinic['key']}",
                    f"  clinic terminal: {base}/clinic/ code {clinic['clinic_id']}, key {clinic['key']}",
                )
            )
            _print_staff(base, staff)

    run_command(prepare)
    # The Host allow-list answers the address it binds too (kojin.core.config).
    os.environ["KOJIN_BIND_HOST"] = host
    # Set either way, so a KOJIN_DEMO_CARDS=1 left in the shell cannot list the cards on another address.
    os.environ[DEMO_CARDS_ENV] = "1" if reader_lists_cards(host, asked) else "0"
    from kojin.entrypoints.http.protocol import DeadlineH11Protocol

    uvicorn.run(
        "kojin.entrypoints.http.factory:app",
        host=host,
        port=port,
        workers=workers,
        factory=True,
        log_level="info",
        http=DeadlineH11Protocol,
        **server_limits(),
    )
