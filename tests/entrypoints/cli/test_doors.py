"""Every command of ``kojin`` either is on the public list or acts as an operator it checks.

The commands are enumerated from the Typer app itself, so a new command that
opens the system without asking who runs it fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import typer
from typer.main import get_command

from kojin.entrypoints.cli import app

# Commands anyone at the terminal may run: they read nothing about a person, or
# start the system itself (whoever can start it holds the data directory anyway).
PUBLIC_COMMANDS = frozenset(
    {
        "init",  # creates the stores, keys and the local administrator's key file
        "up",  # serves; every route behind it has its own door
        "number validate",  # a check digit, computed here; the number never leaves the terminal
        "corp show",  # 法人番号 are public
        "corp search",
        "pki export",  # CA certificates and CRLs are public
        "pki crl",
        "audit verify",  # checks a proof bundle file against the log's public key
        "agency list",  # the agencies at the hub and their public keys
        "card auth",  # the card holder's own login: the card and its PIN are the credential
        "staff purposes",  # the list of 事務
        "staff token",  # the staff card and its PIN are the credential
    }
)

# How a command body proves its operator (kojin.entrypoints.cli.operator and the groups' helpers).
OPERATOR_CALLS = ("acting(", "act_as(", "counter_act(", "_officer(", "_holder_act(", "_linkage_clerk(", "_sender(")


def commands(group: typer.Typer, prefix: str = "") -> Iterator[tuple[str, object]]:
    click_group = get_command(group)
    yield from _walk(click_group, prefix)


def _walk(command: object, prefix: str) -> Iterator[tuple[str, object]]:
    sub = getattr(command, "commands", None)
    if sub is None:
        yield prefix.strip(), getattr(command, "callback", None)
        return
    callback = getattr(command, "callback", None)
    if callback is not None and prefix.strip() == "link":
        yield "link", callback  # `kojin link --agency …` runs the group's own callback
    for name, child in sorted(sub.items()):
        yield from _walk(child, f"{prefix} {name}")


def _source(callback: object) -> str:
    """The command's own source (its body is a nested function in it)."""
    function = inspect.unwrap(callback)  # type: ignore[arg-type]
    return inspect.getsource(function)


def test_every_command_is_public_or_checks_its_operator() -> None:
    found = dict(commands(app))
    assert "resident show" in found and "staff bulk approve" in found
    assert set(found) >= PUBLIC_COMMANDS, sorted(PUBLIC_COMMANDS - set(found))
    unguarded = [
        name
        for name, callback in sorted(found.items())
        if name not in PUBLIC_COMMANDS and not any(call in _source(callback) for call in OPERATOR_CALLS)
    ]
    assert unguarded == []
