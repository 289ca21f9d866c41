"""Limits on every request (要求の上限): Host, header size, JSON body size, depth and type.

:class:`RequestLimits` sits outside the application and refuses, before any
route runs:

* a ``Host`` not in the allow-list (a DNS-rebinding page reaching a server on
  127.0.0.1 sends its own name as Host) — 400 ``request.bad_host``;
* request headers larger than :data:`MAX_HEADER_BYTES` in total — 431;
* on the JSON APIs (every path that is not a page; pages have their own form
  limit in :class:`kojin.web.security.BodyLimit`): a body in another type than
  ``application/json`` — 415, so a ``text/plain`` cross-site POST never reaches
  a route; a body over the path's limit — 413, refused from its declared
  length without reading it, or cut off once it streams past the limit; JSON
  nested deeper than :data:`MAX_JSON_DEPTH` — 422, before a parser recurses.

A path may declare another limit or other types (:func:`register_body`): the
hub's batch route takes 4 MiB, the OCSP responder its DER requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kojin.core import reasons as core_reasons
from kojin.core.errors import KojinError
from kojin.web.security import replaying

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_HEADER_BYTES = 16 * 1024
JSON_TYPES = ("application/json",)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Brackets outside strings: a string's contents (escapes included) are skipped whole.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


@dataclass(frozen=True)
class BodyRule:
    """What one path's request body may be."""

    limit: int = MAX_JSON_BYTES
    content_types: tuple[str, ...] = JSON_TYPES


_RULES: dict[str, BodyRule] = {}


def register_body(path: str, *, limit: int = MAX_JSON_BYTES, content_types: tuple[str, ...] = JSON_TYPES) -> None:
    """Let ``path`` (exact) take bodies up to ``limit`` bytes of ``content_types``."""
    _RULES[path] = BodyRule(limit, tuple(t.lower() for t in content_types))


def body_rule(path: str) -> BodyRule:
    return _RULES.get(path, BodyRule())


def json_depth_over(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body`` nests arrays/objects deeper than ``limit`` (not a validation: brackets only)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets (the common case, at C speed)
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def host_name(value: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8000`` → ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        return value.partition(":")[0]
    return value


def media_type(scope: Scope) -> str | None:
    """The request's declared body type, lower case, without parameters; None if it declares none."""
    for key, value in scope.get("headers") or []:
        if key == b"content-type":
            media: str = value.decode("latin-1").split(";")[0].strip().lower()
            return media
    return None


class RequestLimits:
    """ASGI middleware: the checks in this module's docstring, each answered in the one error shape."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Callable[[], frozenset[str]],
        is_page: Callable[[str], bool],
        render_page: Callable[[Request, KojinError], Response],
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.is_page = is_page
        self.render_page = render_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        refusal = self._check_headers(headers)
        path = str(scope.get("path", ""))
        if refusal is None and scope.get("method") in _BODY_METHODS and not self.is_page(path):
            refusal = self._check_declared(scope, body_rule(path))
            if refusal is None:
                await self._read_json(scope, receive, send, body_rule(path))
                return
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        await self.app(scope, receive, send)

    def _check_headers(self, headers: list[tuple[bytes, bytes]]) -> KojinError | None:
        if sum(len(k) + len(v) + 4 for k, v in headers) > MAX_HEADER_BYTES:
            return core_reasons.REQUEST_HEADERS_TOO_LARGE.error(limit_kb=MAX_HEADER_BYTES // 1024)
        allowed = self.allowed_hosts()
        if "*" in allowed:
            return None
        host = next((v for k, v in headers if k == b"host"), None)
        if host is not None and host_name(host.decode("latin-1")) not in allowed:
            return core_reasons.REQUEST_BAD_HOST.error()
        return None

    def _check_declared(self, scope: Scope, rule: BodyRule) -> KojinError | None:
        headers = scope.get("headers") or []
        declared = next((v for k, v in headers if k == b"content-length"), None)
        chunked = any(k == b"transfer-encoding" for k, _ in headers)
        media = media_type(scope)
        has_body = chunked or (declared is not None and declared != b"0")
        if (media is not None or has_body) and media not in rule.content_types:
            return core_reasons.REQUEST_CONTENT_TYPE.error(expected=", ".join(rule.content_types))
        if declared is not None and (not declared.isdigit() or int(declared) > rule.limit):
            return core_reasons.REQUEST_TOO_LARGE.error(limit_kb=rule.limit // 1024)
        return None

    async def _read_json(self, scope: Scope, receive: Receive, send: Send, rule: BodyRule) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > rule.limit:
                await self._refuse(
                    scope, receive, send, core_reasons.REQUEST_TOO_LARGE.error(limit_kb=rule.limit // 1024)
                )
                return
            if not message.get("more_body", False):
                break
        if media_type(scope) in JSON_TYPES and json_depth_over(bytes(body)):
            await self._refuse(scope, receive, send, core_reasons.REQUEST_TOO_DEEP.error(limit=MAX_JSON_DEPTH))
            return
        await self.app(scope, replaying(bytes(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: KojinError) -> None:
        from kojin.core.i18n import language
        from kojin.web.errors import error_body
        from kojin.web.i18n import request_language

        request = Request(scope, receive)
        path = str(scope.get("path", ""))
        with language(request_language(request)):
            # Words are made when the message is read: read it in the request's language.
            response: Response
            if self.is_page(path) and not isinstance(error, core_reasons.BadHost):
                response = self.render_page(request, error)
            else:
                response = JSONResponse(error_body(error.code, error.message, error.field), status_code=error.status)
        await response(scope, receive, send)
