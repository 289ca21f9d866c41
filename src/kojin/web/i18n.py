"""Message catalogs for the web pages (画面の翻訳): Japanese text, English catalog.

Templates are written in Japanese; the msgids are the Japanese text itself, so a
missing translation falls back to Japanese, never to an empty string. The
English catalog is a Babel ``.po`` file under ``locale/en/LC_MESSAGES``; it is
compiled in memory when first needed, so a fresh ``pip install -e .`` (or a
wheel without a compiled ``.mo``) works without a build step, and a ``.po``
edit shows on the next start without anyone remembering to recompile.

The page language is chosen per request: ``?lang=`` first, then the language
cookie the toggle link sets, then the browser's ``Accept-Language``; Japanese
when nothing asks for English.
"""

from __future__ import annotations

import gettext
import io
import threading
from importlib import resources
from importlib.resources.abc import Traversable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

from kojin.core.i18n import Language

LANG_COOKIE = "kojin_lang"
DOMAIN = "messages"
LANGUAGES: tuple[Language, ...] = ("ja", "en")

_cache: dict[str, gettext.NullTranslations] = {}
_lock = threading.Lock()


def catalog_path(lang: str) -> Traversable:
    """Where the ``.po`` file of ``lang`` lives in the package."""
    return resources.files("kojin.web") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(lang: str) -> gettext.NullTranslations:
    po = catalog_path(lang)
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    # Fuzzy entries are guesses a translator has not confirmed: leave them out.
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (Japanese has none: msgids are Japanese)."""
    if lang == "ja":
        return NullTranslations()
    with _lock:
        found = _cache.get(lang)
        if found is None:
            found = _compile(lang)
            _cache[lang] = found
        return found


def _normalise(value: str | None) -> Language | None:
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("en"):
        return "en"
    if value.startswith("ja"):
        return "ja"
    return None


def request_language(conn: HTTPConnection) -> Language:
    """The language of this request's pages and messages."""
    chosen = _normalise(conn.query_params.get("lang")) or _normalise(conn.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    # Accept-Language lists languages by preference; the first one decides.
    first = conn.headers.get("accept-language", "").split(",")[0]
    return _normalise(first) or "ja"
