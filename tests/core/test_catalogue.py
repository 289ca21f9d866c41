"""The reason-code catalogue: every raise takes its code and words from a table, and docs/errors.md is current."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

from kojin.core.catalogue import CODE, Reason, catalogue, markdown, placeholders
from kojin.core.errors import KojinError

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "kojin"
CORE_ERRORS = {"KojinError", "InvalidInput", "NotFound", "Conflict", "NotPermitted", "Unauthenticated"}


@cache
def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(SRC.rglob("*.py"))}


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def _error_classes(trees: dict[Path, ast.Module]) -> dict[str, str]:
    """Every KojinError subclass in src/kojin, by name, with the name of its constructor's first parameter."""
    defs: list[tuple[str, list[str], str | None]] = []
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                first = None
                for stmt in node.body:
                    if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                        params = [*stmt.args.posonlyargs, *stmt.args.args][1:]
                        first = params[0].arg if params else ""
                defs.append((node.name, bases, first))
    classes = dict.fromkeys(CORE_ERRORS, "code")
    grew = True
    while grew:
        grew = False
        for name, bases, first in defs:
            base = next((b for b in bases if b in classes), None)
            if name not in classes and base is not None:
                classes[name] = classes[base] if first is None else first
                grew = True
    return classes


def _spelled(node: ast.expr | None) -> bool:
    """A code written out in the source: a string, an f-string or a sum with one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _spelled(node.left) or _spelled(node.right)
    return False


def _constructions(trees: dict[Path, ast.Module]) -> Iterator[tuple[Path, ast.Call]]:
    """Calls building a KojinError (sub)class, including ``super().__init__`` inside one."""
    classes = _error_classes(trees)

    def walk(path: Path, node: ast.AST, in_error_class: bool) -> Iterator[tuple[Path, ast.Call]]:
        for child in ast.iter_child_nodes(node):
            inside = in_error_class
            if isinstance(child, ast.ClassDef):
                inside = child.name in classes
            if isinstance(child, ast.Call):
                f = child.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                is_super = (
                    isinstance(f, ast.Attribute)
                    and f.attr == "__init__"
                    and isinstance(f.value, ast.Call)
                    and isinstance(f.value.func, ast.Name)
                    and f.value.func.id == "super"
                )
                if (name in classes and classes[name] == "code") or (is_super and in_error_class):
                    yield path, child
            yield from walk(path, child, inside)

    for path, tree in trees.items():
        yield from walk(path, tree, False)


def test_docs_list_every_code() -> None:
    written = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert written == markdown(), "docs/errors.md is stale: python -m kojin.core.catalogue > docs/errors.md"


def test_every_code_is_in_one_table_with_words_that_format() -> None:
    codes = catalogue()
    assert len(codes) > 100
    for code, reason in codes.items():
        assert CODE.fullmatch(code), code
        assert issubclass(reason.kind, KojinError), code
        assert reason.ja.strip() and reason.en.strip(), code
        needed = placeholders(reason.ja) | placeholders(reason.en)
        assert "field" not in needed, f"{code}: field= names the field; call the placeholder something else"


def test_no_raise_spells_out_a_code() -> None:
    """Errors are raised from a table (``raise reasons.NAME.error()``), never with a code written at the raise."""
    spelled = []
    for path, call in _constructions(_trees()):
        code = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "code"), None)
        if _spelled(code):
            spelled.append(_where(path, call))
    assert not spelled, "raise these from the party's reasons.py table instead: " + ", ".join(spelled)


def test_tables_are_only_in_reasons_modules() -> None:
    elsewhere = []
    for path, tree in _trees().items():
        if path.name == "reasons.py":
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "reason"
                and node.args
                and _spelled(node.args[0])
            ):
                elsewhere.append(_where(path, node))
    assert not elsewhere, "reason codes belong in a reasons.py table: " + ", ".join(elsewhere)


def test_codes_compared_in_the_code_are_catalogued() -> None:
    """``exc.code == "x.y"`` (or ``in (...)``) names a code that exists."""
    codes = catalogue()
    unknown = []
    for path, tree in _trees().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            if not any(isinstance(s, ast.Attribute) and s.attr == "code" for s in sides):
                continue
            for side in sides:
                values = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                for v in values:
                    if (
                        isinstance(v, ast.Constant)
                        and isinstance(v.value, str)
                        and CODE.fullmatch(v.value)
                        and v.value not in codes
                    ):
                        unknown.append(f"{_where(path, v)} {v.value}")
    assert not unknown, "codes not in any table: " + ", ".join(unknown)


def _table_aliases(path: Path, tree: ast.Module) -> dict[str, ModuleType]:
    """The names a module calls its tables by (``from kojin.hub import reasons as hub_reasons``)."""
    out: dict[str, ModuleType] = {}
    if path.name == "reasons.py":
        out[""] = importlib.import_module(".".join(path.relative_to(SRC.parent).with_suffix("").parts))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kojin."):
            for alias in node.names:
                if alias.name == "reasons":
                    out[alias.asname or alias.name] = importlib.import_module(f"{node.module}.reasons")
    return out


def _reasons_of(ref: ast.expr, aliases: dict[str, ModuleType]) -> list[Reason[KojinError]] | None:
    """The reason(s) ``reasons.NAME`` or ``reasons.GROUP[key]`` stands for, when it can be told without running."""
    found: object = None
    if isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name) and ref.value.id in aliases:
        found = getattr(aliases[ref.value.id], ref.attr)
    elif isinstance(ref, ast.Name) and "" in aliases and hasattr(aliases[""], ref.id):
        found = getattr(aliases[""], ref.id)
    elif isinstance(ref, ast.Subscript):
        group = _reasons_of(ref.value, aliases)
        return group
    if isinstance(found, Reason):
        return [found]
    if isinstance(found, dict) and all(isinstance(r, Reason) for r in found.values()):
        return list(found.values())
    return None


def test_raises_fill_every_placeholder() -> None:
    """``reasons.NAME.error(...)`` and ``.text(...)`` are given every value the messages name."""
    missing = []
    for path, tree in _trees().items():
        aliases = _table_aliases(path, tree)
        if not aliases:
            continue
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("error", "text")
                and not any(k.arg is None for k in node.keywords)
            ):
                continue
            target = node.func.value
            if isinstance(target, ast.Subscript):
                target = target.value
                found = _reasons_of(target, aliases)
                reasons = list(found) if found else None
            else:
                reasons = _reasons_of(target, aliases)
            if reasons is None:
                continue
            given = {k.arg for k in node.keywords}
            for reason in reasons:
                needed = placeholders(reason.ja) | placeholders(reason.en)
                if needed - given:
                    missing.append(f"{_where(path, node)} {reason.code} lacks {sorted(needed - given)}")
    assert not missing, "; ".join(missing)
