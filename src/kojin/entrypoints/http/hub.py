"""The hub served on its own (情報提供ネットワークシステムの単独配備).

``uvicorn kojin.entrypoints.http.hub:app --factory`` serves the hub, the intermediate
servers hosted with it and the exchange log — the parties of walk 4 — without
the rest of kojin. ``POST /hub/exchange`` is answered by a lean ASGI handler
in front of FastAPI: on this path the framework's per-request machinery
(routing, dependency solving, middleware task groups) cost several times the
hub's own work. The handler calls the same :func:`exchange_http_async` as the
FastAPI route, which stays in place for the OpenAPI documentation and for the
full application (:mod:`kojin.entrypoints.http.app`), so the two cannot answer differently.

The exchange runs on the event loop itself (:meth:`HubService.exchange_async`):
its checks and the hosted providers' answers are short, and its durable
commits are awaited, so no thread pool stands between the request and the
hub. With CPython's GIL, handing each request to a pool thread and back cost
more context switches than the exchange has work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kojin.agency.api import make_router as agency_router
from kojin.app import Kojin, build
from kojin.audit.api import make_router as audit_router
from kojin.core import reasons as core_reasons
from kojin.core.errors import KojinError
from kojin.core.i18n import language
from kojin.hub.api import exchange_http_async, too_large
from kojin.hub.api import make_router as hub_router
from kojin.hub.service import HubService
from kojin.staff.guard import StaffDoors
from kojin.web.limits import JSON_TYPES, RequestLimits, media_type

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 64 * 1024
"""A signed request is a few hundred bytes; anything near this is not one."""


def _language(scope: Scope) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("lang"):
        return str(query["lang"][0])
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            return str(value.decode("latin-1"))
    return "ja"


class FastExchange:
    """Answers ``POST /hub/exchange`` itself and hands every other request to ``app``."""

    def __init__(self, app: ASGIApp, hub: HubService) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/hub/exchange" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if media_type(scope) not in JSON_TYPES:
            # As RequestLimits refuses it in the full app: a text/plain cross-site
            # post, or anything else, never reaches the hub.
            with language(_language(scope)):
                refusal = core_reasons.REQUEST_CONTENT_TYPE.error(expected=", ".join(JSON_TYPES))
                payload = {"error": {"code": refusal.code, "message": refusal.message, "field": refusal.field}}
            await _respond(send, refusal.status, payload)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _respond(send, 413, too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        with language(_language(scope)):
            status, payload = await exchange_http_async(self.hub, b"".join(chunks))
        await _respond(send, status, payload)

    def close(self) -> None:
        """Nothing of its own to stop: the hub is closed with the rest of kojin."""


async def _respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    # Compact UTF-8 JSON, as json.dumps(ensure_ascii=False) would write it, for a few µs less.
    body = orjson.dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_hub_app(kojin: Kojin) -> FastExchange:
    """The hub, the intermediate servers hosted with it and the exchange log, as one ASGI app."""
    from kojin.web.errors import install_error_handlers

    api = FastAPI(
        title="kojin hub",
        description="情報提供ネットワークシステム — the information-linkage hub, intermediate servers and exchange log",
        version="0.1.0",
    )
    install_error_handlers(api)
    # The JSON APIs' body type, size and depth, as in the full app. The Host
    # allow-list is left open: this app serves agencies' machines, not browsers.
    api.add_middleware(
        RequestLimits,
        allowed_hosts=lambda: frozenset({"*"}),
        is_page=lambda _path: False,
        render_page=_no_pages,
    )

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    doors = StaffDoors(kojin.staff)
    api.include_router(hub_router(kojin.hub, doors))
    api.include_router(agency_router(kojin.agencies, doors))
    api.include_router(audit_router(kojin.exchange_log))
    return FastExchange(api, kojin.hub)


def _no_pages(_request: Request, error: KojinError) -> Response:
    return JSONResponse({"error": {"code": error.code, "message": error.message, "field": error.field}}, error.status)


def app() -> FastExchange:
    """What ``uvicorn kojin.entrypoints.http.hub:app --factory`` serves: built from the environment."""
    return create_hub_app(build())
