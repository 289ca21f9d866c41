"""The shape of the source tree: small modules and short functions, or a reason written down.

A module over ``MODULE_LINES`` lines, or one holding a function over
``FUNCTION_LINES`` lines, must say why in its docstring, in a paragraph that
starts with ``Why this module is long:``. Migrations are exempt: each spells out
a whole schema as it shipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kojin

MODULE_LINES = 600
FUNCTION_LINES = 80
REASON = "Why this module is long:"

SRC = Path(kojin.__file__).parent


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def _long_functions(tree: ast.Module) -> list[tuple[str, int]]:
    return [
        (node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > FUNCTION_LINES
    ]


def test_modules_and_functions_are_small_or_say_why() -> None:
    unexplained: list[str] = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        explained = REASON in (ast.get_docstring(tree) or "")
        lines = text.count("\n")
        where = path.relative_to(SRC)
        if lines > MODULE_LINES and not explained:
            unexplained.append(f"{where}: {lines} lines")
        if not explained:
            unexplained += [f"{where}: {name}() is {n} lines" for name, n in _long_functions(tree)]
    assert not unexplained, "\n".join(unexplained)
