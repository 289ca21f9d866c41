"""The one way every ``kojin`` command opens the system, and how commands print what they found.

A command body either takes the system as an argument (:func:`with_system`) or
opens it itself (:func:`open_system`); both build it with :func:`kojin.app.build`
and close it however the body ends, and both run under
:func:`kojin.entrypoints.cli.console.run_command`, so a failure reads the same
in every group.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kojin.app import Kojin, build
from kojin.entrypoints.cli.console import cell, json_safe, run_command

__all__ = ["JsonOpt", "console", "open_system", "optional_date", "print_json", "print_record", "with_system"]

T = TypeVar("T")

# A command's answer goes to stdout (tables, JSON lines); progress and errors to stderr.
console = Console(soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def open_system(*, migrate: bool = True, demo_agencies: bool = False) -> Iterator[Kojin]:
    """The whole system, built from the environment and closed on the way out.

    ``demo_agencies`` makes sure the demo agencies exist (as after ``kojin up``),
    so the agency commands work on a fresh data directory too.
    """
    kojin = build(migrate=migrate)
    try:
        if demo_agencies:
            from kojin.demo.agencies import ensure_demo_agencies

            ensure_demo_agencies(kojin)
        yield kojin
    finally:
        kojin.close()


def with_system(action: Callable[[Kojin], T], *, demo_agencies: bool = False) -> T:
    """Run one command body with the system open, failures reported as every command reports them."""

    def body() -> T:
        with open_system(demo_agencies=demo_agencies) as kojin:
            return action(kojin)

    return run_command(body)


def print_json(data: Any) -> None:
    # Stored text may hold what a terminal acts on: escaped, still valid JSON.
    sys.stdout.write(json_safe(json.dumps(data, ensure_ascii=False)) + "\n")


def print_record(data: dict[str, Any], as_json: bool, title: str) -> None:
    """One record as a JSON line or as a two-column table."""
    if as_json:
        print_json(data)
        return
    table = Table(title=title, show_header=False)
    for key, value in data.items():
        table.add_row(key, cell("" if value is None else value))
    console.print(table)


def optional_date(value: str | None, field: str) -> date | None:
    from kojin.core.japan import parse_date

    return parse_date(value, field) if value else None
