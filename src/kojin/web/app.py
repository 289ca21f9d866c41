"""The web application: every party's API under one FastAPI app (``kojin up``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi_offline import FastAPIOffline

from kojin.agency.api import make_router as agency_router
from kojin.app import Kojin
from kojin.audit.api import make_router as audit_router
from kojin.auth.api import make_router as auth_router
from kojin.core.i18n import set_language
from kojin.corporate.api import make_router as corporate_router
from kojin.hub.api import make_router as hub_router
from kojin.numbering.api import make_router as numbering_router
from kojin.pki.api import make_router as pki_router
from kojin.registry.api import make_router as registry_router
from kojin.web.errors import install_error_handlers

LANDING = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kojin — マイナンバー制度の実装</title></head>
<body><main>
<h1>kojin</h1>
<p>プライバシー・バイ・デザインで作ったマイナンバー制度の実装です。
<span lang="en">A privacy-by-design implementation of Japan's My Number system.</span></p>
<h2>入口 <span lang="en">Entrances</span></h2>
<ul>
<li><a href="/docs">API 文書（OpenAPI） <span lang="en">API documentation</span></a></li>
<li><a href="/registry/residents?limit=20">住民基本台帳 <span lang="en">Resident register</span></a></li>
<li><a href="/corporate/search?name=%E6%A0%AA%E5%BC%8F&amp;mode=2">
法人番号 <span lang="en">Corporate numbers</span></a></li>
</ul>
</main></body></html>
"""


def create_app(kojin: Kojin) -> FastAPI:
    # Swagger UI's assets are served from the package, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="kojin",
        description="社会保障・税番号制度の実装 — a privacy-by-design implementation of Japan's My Number system",
        version="0.1.0",
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def language(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Japanese first; English when asked for by ?lang=en or the browser.
        lang = request.query_params.get("lang") or request.headers.get("accept-language", "ja")
        set_language("en" if lang.lower().startswith("en") else "ja")
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing() -> str:
        return LANDING

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(registry_router(kojin.register))
    app.include_router(numbering_router(kojin.numbering))
    app.include_router(corporate_router(kojin.corporate))
    app.include_router(pki_router(kojin.ca, responder=kojin.ocsp))
    app.include_router(auth_router(kojin.auth))
    app.include_router(hub_router(kojin.hub))
    app.include_router(agency_router(kojin.agencies))
    app.include_router(audit_router(kojin.exchange_log))
    app.state.kojin = kojin
    return app
