"""Web safety plumbing shared by the pages (画面の安全対策): CSRF, cookies, form limits.

* CSRF: every state-changing request carries the session's token, as a hidden
  form field (``csrf_token``) or, from htmx, the ``X-CSRF-Token`` header that
  ``base.html`` sets on the body. The token lives in the server-side session
  record, never in a cookie of its own.
* Cookies: ``HttpOnly``, ``SameSite=Strict``, and over https ``Secure`` with the
  ``__Host-`` prefix, which also pins the cookie to this host and path ``/``.
* Forms: one size limit for every page request's body, checked while it is
  read (a client that lies about Content-Length is cut off too), and per-field
  limits in :class:`FormFields`, so a 10 MB "name" is a clear error, not a row.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable

from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kojin.core import reasons as core_reasons

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 64 * 1024
MAX_FIELD_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_secure(conn: HTTPConnection) -> bool:
    return conn.url.scheme == "https"


def cookie_name(conn: HTTPConnection, base: str) -> str:
    """``__Host-<base>`` over https (Secure, host-only, path /), ``<base>`` over plain http."""
    return f"__Host-{base}" if is_secure(conn) else base


def set_cookie(response: Response, conn: HTTPConnection, base: str, value: str, *, path: str = "/") -> None:
    secure = is_secure(conn)
    response.set_cookie(
        cookie_name(conn, base),
        value,
        httponly=True,
        samesite="strict",
        secure=secure,
        # A __Host- cookie must have path /; otherwise narrow it to its app.
        path="/" if secure else path,
    )


def delete_cookie(response: Response, conn: HTTPConnection, base: str, *, path: str = "/") -> None:
    secure = is_secure(conn)
    response.delete_cookie(
        cookie_name(conn, base), path="/" if secure else path, httponly=True, samesite="strict", secure=secure
    )


def read_cookie(conn: HTTPConnection, base: str) -> str | None:
    return conn.cookies.get(cookie_name(conn, base))


def check_csrf(expected: str | None, submitted: str | None) -> None:
    """Refuse unless ``submitted`` is the session's token (constant-time)."""
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise core_reasons.CSRF_INVALID.error()


class FormFields:
    """A submitted form with per-field checks; errors name the field."""

    def __init__(self, form: FormData) -> None:
        self._form = form

    @classmethod
    async def read(cls, request: Request) -> FormFields:
        form = await request.form(max_files=0, max_fields=64, max_part_size=MAX_FORM_BYTES)
        return cls(form)

    def get(self, name: str, *, max_chars: int = MAX_FIELD_CHARS, required: bool = False) -> str:
        values = self._form.getlist(name)
        if len(values) > 1:
            raise core_reasons.FORM_REPEATED.error(name=name, field=name)
        value = values[0] if values else ""
        if not isinstance(value, str):
            raise core_reasons.FORM_FILE.error(field=name)
        if len(value) > max_chars:
            raise core_reasons.FORM_TOO_LONG.error(max_chars=max_chars, field=name)
        if _CONTROL.search(value):
            raise core_reasons.FORM_CONTROL.error(field=name)
        if required and not value.strip():
            raise core_reasons.FORM_REQUIRED.error(field=name)
        return value

    def getlist(self, name: str, *, max_items: int = 16, max_chars: int = 100) -> list[str]:
        values = self._form.getlist(name)
        if len(values) > max_items:
            raise core_reasons.FORM_TOO_MANY.error(field=name)
        out = []
        for value in values:
            if not isinstance(value, str) or len(value) > max_chars or _CONTROL.search(value):
                raise core_reasons.FORM_INVALID.error(field=name)
            out.append(value)
        return out

    def csrf(self, request: Request) -> str | None:
        return request.headers.get(CSRF_HEADER) or self.get(CSRF_FIELD, max_chars=200) or None


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the connection's own messages."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodyLimit:
    """ASGI middleware: bodies of page requests (paths ``is_page`` names) above ``limit`` bytes are refused.

    The body is read here, up to the limit, before the application sees it: a
    declared Content-Length over the limit is refused without reading, and a
    client that streams more than it declared is cut off at the limit. The
    refusal is the site's error page (or an htmx fragment).
    """

    def __init__(self, app: ASGIApp, *, is_page: Callable[[str], bool], limit: int = MAX_FORM_BYTES) -> None:
        self.app = app
        self.is_page = is_page
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") in ("GET", "HEAD", "OPTIONS")
            or not self.is_page(str(scope.get("path", "")))
        ):
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers") or [] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(bytes(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from kojin.core.i18n import language
        from kojin.web.i18n import request_language
        from kojin.web.templating import render

        request = Request(scope, receive)
        with language(request_language(request)):
            exc = core_reasons.REQUEST_TOO_LARGE.error(limit_kb=MAX_FORM_BYTES // 1024)
            htmx = request.headers.get("hx-request") == "true"
            response = render(
                request,
                "partials/error.html" if htmx else "error.html",
                {"status": exc.status, "code": exc.code, "message": exc.message, "field": None},
                status_code=exc.status,
            )
        await response(scope, receive, send)
