"""Server-rendered pages (画面): one Jinja2 environment for every party's templates.

Each web-facing package keeps its templates in its own ``templates/`` folder,
namespaced by a sub-folder (``portal/…``, ``reader/…``); :func:`add_template_package`
lets a later part (clinic, kiosk) add its own. Every page extends
``base.html``, which carries the language toggle, the htmx script (vendored in
``static/``, never a CDN) and the CSRF header htmx sends with each request.

Pages are personal: they are sent with ``Cache-Control: no-store`` so that the
browser's back button on a shared terminal cannot bring the last person's data
back, and with a Content-Security-Policy that allows scripts and styles from
this origin only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi.responses import HTMLResponse
from starlette.requests import Request

from kojin.core.i18n import current_language, language
from kojin.core.japan import JST
from kojin.web.i18n import request_language, translations

_PACKAGES: list[str] = ["kojin.web", "kojin.portal", "kojin.reader"]
_env: jinja2.Environment | None = None
_env_lock = threading.Lock()

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Reader URLs carry a login challenge: never hand them on as a Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def add_template_package(package: str) -> None:
    """Let ``package``'s ``templates/`` folder serve pages (call before the first page)."""
    global _env
    with _env_lock:
        if package not in _PACKAGES:
            _PACKAGES.append(package)
            _env = None


def jst(value: datetime | None, with_time: bool = True) -> str:
    """A time as people in Japan read it (JST), e.g. ``2026-11-24 17:05``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(JST)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


def environment() -> jinja2.Environment:
    """The shared environment (autoescaping on; gettext follows the request's language)."""
    global _env
    with _env_lock:
        if _env is None:
            loader = jinja2.ChoiceLoader([jinja2.PackageLoader(p, "templates") for p in _PACKAGES])
            env = jinja2.Environment(
                loader=loader,
                autoescape=True,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
            env.filters["jst"] = jst
            _env = env
        return _env


def lang_toggle_url(request: Request, to: str) -> str:
    """The language toggle: a link that sets the language and comes back here."""
    here = request.url.path
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    if params:
        here += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params)
    return f"/lang?to={to}&next={quote(here, safe='')}"


def html_response(body: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status_code)
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_string(request: Request, template: str, context: Mapping[str, Any] | None = None) -> str:
    lang = request_language(request)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "ja" else "ja",
        "lang_url": lang_toggle_url(request, "en" if lang == "ja" else "ja"),
        "csrf_token": getattr(request.state, "csrf_token", None),
        "nav": getattr(request.state, "nav", None),
        "is_htmx": request.headers.get("hx-request") == "true",
    }
    values.update(context or {})
    with language(lang):
        return environment().get_template(template).render(values)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in the request's language as a page (or an htmx fragment)."""
    return html_response(render_string(request, template, context), status_code, headers)
