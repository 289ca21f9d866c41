"""JSON read with a bound on nesting (JSON の入れ子の上限).

Python's parser recurses once per level: a body of ten thousand ``[`` made it
raise RecursionError, which no caller expected (a server error), and a body a
few hundred levels deep parsed but broke whatever walked it next. Every
message kojin exchanges is a handful of levels deep, so text nested deeper
than :data:`MAX_JSON_DEPTH` is refused before it is parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from kojin.core import reasons

MAX_JSON_DEPTH: Final = 64

# A JSON string (escapes included): brackets inside one do not nest.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(data: bytes | str) -> int:
    """The deepest nesting of arrays and objects in JSON text (an estimate for invalid text)."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    openings = raw.count(b"[") + raw.count(b"{")
    if openings <= MAX_JSON_DEPTH:
        return openings  # at most as deep as it has openings: no need to look closer
    deepest = depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    return json_depth(data) > limit


def loads(data: bytes | str, *, limit: int = MAX_JSON_DEPTH, field: str | None = None) -> Any:
    """``json.loads``, refusing text nested deeper than ``limit`` (``request.too_deep``) first.

    Text that is not JSON raises ValueError as json.loads does.
    """
    if too_deep(data, limit):
        raise reasons.REQUEST_TOO_DEEP.error(limit=limit, field=field)
    return json.loads(data)
