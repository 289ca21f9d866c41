"""Security headers on every answer (セキュリティヘッダー), whoever rendered it.

Pages rendered by :func:`kojin.web.templating.render` carry their headers
already; this middleware gives the same to every other HTML answer (the
linkage review's pages, Swagger UI at ``/docs``, ReDoc …), so that no page can
be framed (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``) and none runs
script from elsewhere. Swagger UI starts from one inline script: its CSP names
that script by hash (computed from the page as sent), not ``'unsafe-inline'``.
Every answer gets ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kojin.web.templating import SECURITY_HEADERS

PAGE_CSP = SECURITY_HEADERS["Content-Security-Policy"]
DOC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: bytes) -> str:
    """The CSP for an API document page: its own inline scripts by hash, assets from this origin."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "worker-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )


def _with(headers: list[tuple[bytes, bytes]], extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    present = {k.lower() for k, _ in headers}
    return headers + [(k.lower().encode(), v.encode()) for k, v in extra.items() if k.lower().encode() not in present]


class SecurityHeaders:
    """ASGI middleware: the module's headers on every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in DOC_PATHS
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                if html and docs:
                    held.append(message)  # its CSP needs the page: wait for the body
                    return
                extra = {"X-Content-Type-Options": "nosniff"}
                if html:
                    extra |= {"Content-Security-Policy": PAGE_CSP, "X-Frame-Options": "DENY"}
                    extra["Referrer-Policy"] = SECURITY_HEADERS["Referrer-Policy"]
                message = {**message, "headers": _with(headers, extra)}
            elif held:
                held.append(message)
                if message["type"] != "http.response.body" or message.get("more_body", False):
                    return
                await self._send_docs(held, send)
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _send_docs(self, held: list[Message], send: Send) -> None:
        start, bodies = held[0], held[1:]
        html = b"".join(m.get("body", b"") for m in bodies)
        extra = {
            "Content-Security-Policy": docs_csp(html),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": SECURITY_HEADERS["Referrer-Policy"],
        }
        await send({**start, "headers": _with(list(start.get("headers") or []), extra)})
        await send({"type": "http.response.body", "body": html, "more_body": False})
