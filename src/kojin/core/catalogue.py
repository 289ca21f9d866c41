"""Reason codes as data: each error a user may see, with its status and its words, written once.

Every party keeps its reason codes in one table, ``kojin/<party>/reasons.py``
(codes under prefixes no party owns, such as ``request.`` or ``form.``, are in
``kojin/core/reasons.py``). An entry is a :class:`Reason`: the code, the error
class it is raised as (and so its HTTP status), the message in Japanese and in
English, and the input field it is about. Code raises from the table::

    raise reasons.REPLAYED_REQUEST.error()
    raise reasons.UNKNOWN_AGENCY.error(agency_id=agency_id, field="provider")

Messages are :meth:`str.format` templates filled by the keyword arguments of
:meth:`Reason.error`; ``field=`` overrides the table's field for one raise.

The tables are found on disk rather than imported by name, so that core needs
no party: :func:`catalogue` loads them all, and :func:`markdown` renders
docs/errors.md (``python -m kojin.core.catalogue > docs/errors.md``).
"""

from __future__ import annotations

import importlib
import re
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Generic, TypeVar

from kojin.core.errors import KojinError

__all__ = ["CODE", "Reason", "Table", "catalogue", "markdown", "placeholders", "tables"]

E = TypeVar("E", bound=KojinError, covariant=True)
K = TypeVar("K", bound=KojinError)

CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\Z")
"""The shape of a reason code: dotted lower-case words, the first naming its owner."""


@dataclass(frozen=True, slots=True)
class Reason(Generic[E]):
    """One reason code: the error class it is raised as, its messages and the field it is about."""

    code: str
    kind: type[E]
    ja: str
    en: str
    field: str | None = None

    @property
    def status(self) -> int:
        """The HTTP status the API answers this reason with."""
        return self.kind.status

    def text(self, **values: object) -> tuple[str, str]:
        """The Japanese and English messages with ``values`` filled in."""
        return self.ja.format_map(values), self.en.format_map(values)

    def error(self, *, field: str | EllipsisType | None = ..., **values: object) -> E:
        """The error to raise: ``values`` fill the messages, ``field`` (if given) replaces the table's."""
        ja, en = self.text(**values)
        return self.kind(self.code, ja, en, field=self.field if isinstance(field, EllipsisType) else field)


def placeholders(template: str) -> set[str]:
    """The names a message template needs (``{pin.label_ja}`` needs ``pin``)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            root = re.split(r"[.\[]", name, maxsplit=1)[0]
            if not root.isidentifier():
                raise ValueError(f"placeholder {{{name}}} is not a keyword: {template!r}")
            names.add(root)
    return names


class Table:
    """The reasons of one party, in the order they are defined; each code under one of its prefixes."""

    def __init__(self, party: str, title: str, *, prefixes: tuple[str, ...], codes: tuple[str, ...] = ()) -> None:
        self.party = party
        self.title = title
        self.prefixes = prefixes
        self.codes = codes
        """Codes under another table's prefix kept here: modules that may not import that table raise them."""
        self._reasons: dict[str, Reason[KojinError]] = {}

    def reason(self, code: str, kind: type[K], ja: str, en: str, *, field: str | None = None) -> Reason[K]:
        """Add a reason to the table (at import time); a bad code, a duplicate or a bad template is refused."""
        if not CODE.fullmatch(code):
            raise ValueError(f"not a reason code: {code!r}")
        if code.partition(".")[0] not in self.prefixes and code not in self.codes:
            raise ValueError(f"{code} does not belong in the {self.party} table (prefixes {self.prefixes})")
        if code in self._reasons:
            raise ValueError(f"{code} is in the {self.party} table twice")
        placeholders(ja), placeholders(en)
        reason = Reason(code, kind, ja, en, field)
        self._reasons[code] = reason
        return reason

    def __iter__(self) -> Iterator[Reason[KojinError]]:
        return iter(self._reasons.values())

    def __len__(self) -> int:
        return len(self._reasons)

    def __getitem__(self, code: str) -> Reason[KojinError]:
        return self._reasons[code]


def tables() -> list[Table]:
    """Every party's table: the common one first, then by party name."""
    import kojin

    root = Path(kojin.__file__).parent
    names = sorted(path.parent.name for path in root.glob("*/reasons.py"))
    found = [importlib.import_module(f"kojin.{name}.reasons").TABLE for name in names]
    found.sort(key=lambda table: (table.party != "core", table.party))
    return found


def catalogue() -> dict[str, Reason[KojinError]]:
    """Every reason code of kojin; a code or a prefix claimed by two tables is refused."""
    codes: dict[str, Reason[KojinError]] = {}
    owners: dict[str, str] = {}
    for table in tables():
        for prefix in table.prefixes:
            if owners.setdefault(prefix, table.party) != table.party:
                raise ValueError(f"prefix {prefix} is claimed by {owners[prefix]} and {table.party}")
        for reason in table:
            if reason.code in codes:
                raise ValueError(f"{reason.code} is in two tables")
            codes[reason.code] = reason
    return codes


def _cell(text: str | None) -> str:
    return "—" if not text else text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """docs/errors.md: every reason code, grouped by party."""
    lines = [
        "# Reason codes (理由コード)",
        "",
        "Every error kojin shows carries one of these codes, in the API's",
        '`{"error": {"code", "message", "field"}}`, on error pages and in the CLI\'s',
        "`error <code> [<field>]: <message>`. The message is in the request's language;",
        "`{name}` marks a value filled in when the error is raised. The field is the one",
        "the error is usually about (a raise may name another).",
        "",
        "Generated from the tables in `src/kojin/*/reasons.py` by",
        "`python -m kojin.core.catalogue > docs/errors.md`; a test fails when this file is stale.",
    ]
    for table in tables():
        lines += ["", f"## {table.party}: {table.title}", ""]
        lines += ["| code | status | error | field | 日本語 | English |", "|---|---|---|---|---|---|"]
        for reason in sorted(table, key=lambda r: r.code):
            field = f"`{reason.field}`" if reason.field else None
            row = [f"`{reason.code}`", str(reason.status), reason.kind.__name__, field, reason.ja, reason.en]
            lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
