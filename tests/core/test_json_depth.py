"""JSON nesting measured outside strings, and refused beyond the bound before parsing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kojin.core import json_depth
from kojin.core.errors import KojinError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=80,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(JSON, st.integers(min_value=0, max_value=80))
def test_refused_exactly_when_deeper_than_the_bound(value: object, wrap: int) -> None:
    for _ in range(wrap):
        value = [value] if wrap % 2 else {"[{": value}
    text = json.dumps(value, ensure_ascii=False)
    assert json_depth.json_depth(text) >= _depth(value)
    assert json_depth.too_deep(text) is (_depth(value) > json_depth.MAX_JSON_DEPTH)


def test_deep_text_is_refused_and_strings_do_not_count() -> None:
    limit = json_depth.MAX_JSON_DEPTH
    assert json_depth.loads("[" * limit + "]" * limit) is not None
    for depth in (limit + 1, 100_000):
        with pytest.raises(KojinError) as caught:
            json_depth.loads(b"[" * depth + b"]" * depth, field="body")
        assert (caught.value.code, caught.value.field) == ("request.too_deep", "body")
    tricky = json.dumps(["[" * 100, '\\"[[[', {"k": "{" * 100}])
    assert json_depth.json_depth(tricky) == 2
    assert json_depth.loads(tricky)[0] == "[" * 100
    with pytest.raises(ValueError):
        json_depth.loads("not json")
