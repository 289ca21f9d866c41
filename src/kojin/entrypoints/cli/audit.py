"""``kojin audit``: check a proof bundle offline (証跡の検証).

``kojin audit verify PROOF.json`` needs no server and no database: it runs
:func:`kojin.audit.verify.verify_bundle_json` on the file, prints every check,
and prints the log key's id so that the user can compare it with the one the
log operator publishes — unless ``--key`` pins the trusted key itself.

``kojin audit reindex`` (the system administrator's) rebuilds the log's
person index for leaves logged before it existed; see :mod:`kojin.hub.reindex`.

Exit status: 0 if every check passed, 2 otherwise (including an unreadable
file or key), always with one final line on stderr naming what failed and
never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kojin.app import Kojin
from kojin.audit import reasons as audit_reasons
from kojin.audit.tree_head import load_public_key
from kojin.audit.verify import VerificationResult, verify_bundle_json
from kojin.core.i18n import pick
from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.operator import act_as
from kojin.entrypoints.cli.system import print_json, with_system
from kojin.staff.domain import Role

# Real bundles are a few kilobytes; this only keeps a wrong file from
# being read whole into memory.
_MAX_FILE_BYTES = 10 * 1024 * 1024

audit_app = typer.Typer(
    help="改ざん検知ログ — the tamper-evident exchange log: verify proof bundles, rebuild the person index.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@audit_app.callback()
def _group() -> None:
    """改ざん検知ログ — the tamper-evident exchange log: verify proof bundles, rebuild the person index."""
    # A callback keeps ``verify`` a subcommand even while it is the only one,
    # so ``kojin audit verify`` works the same mounted or invoked directly.


def _read(path: Path, what_ja: str, what_en: str, field: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise audit_reasons.FILE_UNREADABLE.error(
            what_ja=what_ja, path=path, reason=reason, what_en=what_en, field=field
        ) from None
    if len(data) > _MAX_FILE_BYTES:
        raise audit_reasons.FILE_TOO_LARGE.error(what_ja=what_ja, path=path, what_en=what_en, field=field)
    return data


def _print_report(result: VerificationResult, source: Path) -> None:
    typer.echo(pick(f"証跡の検証: {source}", f"Verifying proof bundle: {source}"))
    for check in result.checks:
        mark = pick("合格", "PASS") if check.ok else pick("不合格", "FAIL")
        typer.echo(f"  [{mark}] {check.name}: {check.message}")
    if result.key_id is None:
        return
    typer.echo(
        pick(f"ログの鍵ID (公開鍵のSHA-256): {result.key_id}", f"Log key id (SHA-256 of the key): {result.key_id}")
    )
    if result.key_pinned:
        typer.echo(pick("  鍵は --key で指定された鍵と照合済みです。", "  The key was checked against --key."))
    else:
        typer.echo(
            pick(
                "  この鍵IDを、ログ運営者が公表している鍵IDと照合してください。",
                "  Compare this key id with the one the log operator publishes.",
            )
        )


@audit_app.command("verify")
def verify_command(
    proof: Annotated[Path, typer.Argument(metavar="PROOF.json", help="Proof bundle (証跡) to check.")],
    key: Annotated[
        Path | None,
        typer.Option("--key", metavar="PEMFILE", help="Trusted log public key (PEM); pins the bundle's key."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Verify a proof bundle offline: signature, inclusion and consistency."""
    run_command(lambda: _verify(proof, key, as_json))


def _verify(proof: Path, key: Path | None, as_json: bool) -> None:
    trusted = None
    if key is not None:
        text = _read(key, "公開鍵ファイル", "key file", "--key")
        trusted = load_public_key(text.decode("utf-8", errors="replace"), "--key")
    result = verify_bundle_json(_read(proof, "証跡ファイル", "proof file", "PROOF"), trusted_public_key=trusted)

    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(result, proof)

    if result.ok:
        typer.echo(
            pick(
                f"検証成功: 記録は木のサイズ{result.tree_size}のログに含まれています。",
                f"Valid: the record is in the log of size {result.tree_size}.",
            )
        )
        return
    failed = next(c for c in result.checks if not c.ok)
    reason = audit_reasons.CHECK_FAILED.get(failed.reason or "", audit_reasons.VERIFY_FAILED)
    raise reason.error(check=failed.name, detail_ja=failed.message_ja, detail_en=failed.message_en, field=failed.name)


@audit_app.command("reindex")
def reindex_command(
    start: Annotated[int, typer.Option("--from", min=0, help="First leaf index to read (default: all).")] = 0,
) -> None:
    """Rebuild the index of each person's leaves (やりとり履歴の索引) from the log; safe to repeat."""

    def body(kojin: Kojin) -> None:
        act_as(kojin, [Role.SYSADMIN])
        done = kojin.hub.reindex(kojin.exchange_log, start=start)
        print_json({"scanned": done.scanned, "about_someone": done.about_someone, "added": done.added})

    with_system(body)
