"""Language selection: Japanese first, English available.

The language is a context variable so that a web request, a CLI run and a test
each choose their own without touching global state. ``KOJIN_LANG=en`` sets the
default for a process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

Language = Literal["ja", "en"]

_language: ContextVar[Language | None] = ContextVar("kojin_language", default=None)


def _default_language() -> Language:
    return "en" if os.environ.get("KOJIN_LANG", "ja").lower().startswith("en") else "ja"


def current_language() -> Language:
    return _language.get() or _default_language()


def set_language(language: str) -> None:
    _language.set("en" if language.lower().startswith("en") else "ja")


def reset_language() -> None:
    """Back to the process default (KOJIN_LANG); tests use it between cases."""
    _language.set(None)


@contextmanager
def language(lang: str) -> Iterator[None]:
    token = _language.set("en" if lang.lower().startswith("en") else "ja")
    try:
        yield
    finally:
        _language.reset(token)


def pick(ja: str, en: str) -> str:
    """Return the text for the current language."""
    return en if current_language() == "en" else ja
