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


def test_no_party_reaches_up_to_the_top_floors() -> None:
    """Parties never import the composition root, the entry points or the demo (import-linter says it too)."""
    top = ("kojin.app", "kojin.entrypoints", "kojin.demo")
    below = [p for p in SRC.iterdir() if p.is_dir() and p.name not in {"entrypoints", "demo", "__pycache__"}]
    offenders: list[str] = []
    for package in below:
        for path in package.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                offenders += [f"{path.relative_to(SRC)} imports {n}" for n in names if n.startswith(top)]
    assert not offenders, "\n".join(offenders)
