"""One error shape for every endpoint: ``{"error": {code, message, field}}``.

No traceback ever reaches a user: unexpected exceptions are logged with a
reference and answered with that reference only.

Pages (the landing page, the portal, the card reader …: the paths in
:data:`HTML_PREFIXES`) get the same error as a friendly page in the site's
style instead — or, for an htmx request, as a fragment swapped into the part
of the page that asked. Every other path keeps the JSON shape.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import nullcontext

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from kojin.core.errors import KojinError
from kojin.core.i18n import language, pick
from kojin.web.i18n import request_language

log = logging.getLogger("kojin.web")

# Path prefixes served as pages; other parts (clinic, kiosk) add theirs.
HTML_PREFIXES: list[str] = ["/portal", "/reader", "/lang"]


def register_html_prefix(prefix: str) -> None:
    """Errors under ``prefix`` are shown as pages, not JSON."""
    if prefix not in HTML_PREFIXES:
        HTML_PREFIXES.append(prefix)


def is_page(path: str) -> bool:
    """Whether ``path`` is a page: its errors are pages, its bodies forms under the page limit.

    A prefix covers itself and what lies below it after a ``/``: ``/staff/`` is
    the staff home page, not the JSON APIs beside it (``/staff/bulk``), whose
    bodies are held to the JSON limits and whose refusals stay JSON.
    """
    return any(path == p or path.startswith(p + "/") for p in HTML_PREFIXES)


def page_for(request: Request, exc: KojinError) -> Response:
    """``exc`` as the site's error page (or htmx fragment)."""
    return _page(request, exc.status, exc.code, exc.message, exc.field)


def wants_html(request: Request) -> bool:
    path = request.url.path
    return path == "/" or is_page(path)


def error_body(code: str, message: str, field: str | None) -> dict[str, dict[str, str | None]]:
    return {"error": {"code": code, "message": message, "field": field}}


def _page(request: Request, status: int, code: str, message: str, field: str | None) -> Response:
    from kojin.web.templating import render

    htmx = request.headers.get("hx-request") == "true"
    template = "partials/error.html" if htmx else "error.html"
    return render(
        request,
        template,
        {"status": status, "code": code, "message": message, "field": field},
        status_code=status,
    )


def _answer(request: Request, status: int, code: str, message: str, field: str | None) -> Response:
    if wants_html(request):
        return _page(request, status, code, message, field)
    return JSONResponse(error_body(code, message, field), status_code=status)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route at this path takes (Starlette's own ``Allow`` names the first route's only)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KojinError)
    async def kojin_error(request: Request, exc: KojinError) -> Response:
        if wants_html(request):
            with language(request_language(request)):
                return _page(request, exc.status, exc.code, exc.message, exc.field)
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        detail = str(first.get("msg", "invalid"))
        with language(request_language(request)) if wants_html(request) else nullcontext():
            message = pick(f"入力が正しくありません（{field}: {detail}）。", f"Invalid input ({field}: {detail}).")
        return _answer(request, 422, "request.invalid", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": allowed_methods(request)}
        code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(exc.status_code, "http.error")
        if wants_html(request):
            with language(request_language(request)):
                message = {
                    404: pick("お探しのページは見つかりませんでした。", "The page was not found."),
                    405: pick("この操作はできません。", "This method is not allowed here."),
                }.get(exc.status_code, str(exc.detail))
            page = _page(request, exc.status_code, code, message, None)
            page.headers.update(exc.headers or {})
            return page
        # Starlette's own details ("Not Found") are English whatever the request's language.
        message = {
            404: pick("指定されたURLはありません。", "There is nothing at this URL."),
            405: pick("このURLではこのメソッドは使えません。", "This method is not allowed at this URL."),
        }.get(exc.status_code, str(exc.detail))
        # A 405 names the methods that are allowed (``Allow``), as RFC 9110 §15.5.6 asks.
        return JSONResponse(error_body(code, message, None), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        reference = secrets.token_hex(6)
        log.error("unexpected error ref=%s type=%s", reference, type(exc).__name__, exc_info=exc)
        with language(request_language(request)) if wants_html(request) else nullcontext():
            message = pick(
                f"内部エラーが発生しました（参照番号 {reference}）。", f"Internal error (reference {reference})."
            )
        return _answer(request, 500, "internal", message, None)
