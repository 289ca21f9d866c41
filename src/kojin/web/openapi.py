"""The OpenAPI document tells the truth about refusals: every error is the one shape of :mod:`kojin.web.errors`.

FastAPI documents only its own 422 (``HTTPValidationError``), in a shape the
app never sends. The document instead names, on every operation, the 4xx
answers any JSON route may give — the limits' refusals, an unknown thing, a
guarded route's 401 and 403 — and the 422 of invalid input, all as
``{"error": {"code", "message", "field"}}``. The API fuzz
(``tests/entrypoints/http/test_fuzz.py``) holds each answer to it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "description": "理由コード (docs/errors.md). The reason code."},
                "message": {"type": "string", "description": "日本語、または英語 (?lang=en). Japanese, or English."},
                "field": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "The input at fault."},
            },
        }
    },
}

_REF = {"$ref": "#/components/schemas/Error"}
_METHODS = ("get", "put", "post", "delete", "patch")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _REF}}}


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the error shape on every operation's 4xx answers (changed in place, and returned)."""
    spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses["422"] = _error("入力誤り。 Invalid input.")
            # What any operation may answer: the request limits, the rate limits, a thing not there, a conflict.
            responses.setdefault("4XX", _error("拒否（理由コード付き）。 Refused, with a reason code."))
    schemas = spec["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Serve ``app``'s document with the error shape documented (built once, as FastAPI does)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def binary_answer(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route whose 200 is ``media_type`` bytes (a certificate, a CRL, an OCSP answer), not JSON."""
    schema = {"type": "string", "format": "binary"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}
