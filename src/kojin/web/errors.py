"""One JSON error shape for every endpoint: ``{"error": {code, message, field}}``.

No traceback ever reaches a user: unexpected exceptions are logged with a
reference and answered with that reference only.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kojin.core.errors import KojinError
from kojin.core.i18n import pick

log = logging.getLogger("kojin.web")


def error_body(code: str, message: str, field: str | None) -> dict[str, dict[str, str | None]]:
    return {"error": {"code": code, "message": message, "field": field}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KojinError)
    async def kojin_error(_request: Request, exc: KojinError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        detail = str(first.get("msg", "invalid"))
        return JSONResponse(
            error_body(
                "request.invalid",
                pick(f"入力が正しくありません（{field}: {detail}）。", f"Invalid input ({field}: {detail})."),
                field,
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(exc.status_code, "http.error")
        return JSONResponse(error_body(code, str(exc.detail), None), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        reference = secrets.token_hex(6)
        log.error("unexpected error ref=%s type=%s", reference, type(exc).__name__, exc_info=exc)
        return JSONResponse(
            error_body(
                "internal",
                pick(f"内部エラーが発生しました（参照番号 {reference}）。", f"Internal error (reference {reference})."),
                None,
            ),
            status_code=500,
        )
