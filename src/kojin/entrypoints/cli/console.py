"""What every ``kojin`` command shares at the terminal (端末): stderr, progress bars, one line per failure.

Each command group (``kojin``, ``kojin agency``, ``kojin audit``,
``kojin link``, ``kojin insurance``, ``kojin notice``) runs its bodies
through :func:`run_command`, so a failure reads the same whichever group it
comes from: a user's mistake is its error's lines and exit 2, a reader that
went away (``| head``) is not an error, and anything else is one line naming
the exception, with no traceback unless ``KOJIN_DEBUG`` asks for it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from kojin.core.errors import KojinError
from kojin.core.i18n import pick

__all__ = ["cell", "err_console", "json_safe", "progress", "run_command", "terminal_safe"]

# What a terminal would act on rather than show: C0 and C1 controls (ESC starts a
# colour, a cursor move or a window-title change), DEL, and the bidirectional
# overrides that make text read in another order than it is stored.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(value: object) -> str:
    """``value`` as text with every control character written out (``\\x1b``, ``\\u202e``), never sent raw."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(value))


def cell(value: object) -> Text:
    """Stored data for a rich table or line: control characters written out, and no markup (``[bold]`` is text)."""
    return Text(terminal_safe(value))


def json_safe(line: str) -> str:
    """A JSON text with the characters ``json.dumps`` leaves raw (DEL, C1, bidi) escaped as ``\\uXXXX``."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", line)


T = TypeVar("T")

# Progress and status go to stderr, so that stdout stays the command's answer
# (JSON lines, a table) and can be piped.
err_console = Console(stderr=True)


def progress() -> Progress:
    """A bar with the step's name, done of total, and the time left (stays on screen when done)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def run_command(action: Callable[[], T]) -> T:
    """Run one command body, turning any failure into its lines on stderr and an exit code."""
    try:
        return action()
    except KojinError as exc:
        for line in exc.report_lines():
            sys.stderr.write(line + "\n")
        raise typer.Exit(2) from None
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:
        # The reader (head, less) went away: not an error. Point stdout at
        # /dev/null so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except Exception as exc:
        if os.environ.get("KOJIN_DEBUG"):
            raise
        sys.stderr.write(pick(f"内部エラー: {type(exc).__name__}", f"internal error: {type(exc).__name__}") + "\n")
        raise typer.Exit(1) from None
