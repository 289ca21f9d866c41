"""The staff token endpoint (OAuth 2): a staff card's signed challenge for a bearer token.

* ``POST /staff/token/challenge`` — a one-time challenge (two minutes);
* ``POST /staff/token`` — form or JSON with ``grant_type`` =
  :data:`~kojin.staff.login.GRANT_TYPE`, ``challenge``, ``certificate`` and
  ``signature`` (base64): the RFC 6749 §5.1 answer ``{access_token,
  token_type, expires_in, scope}`` with ``Cache-Control: no-store``, or an
  RFC 6749 §5.2 error (``invalid_request``, ``unsupported_grant_type``,
  ``invalid_grant``) that also carries kojin's reason code (``reason``);
* ``POST /staff/token/revoke`` — RFC 7009 logout, authenticated by the bearer
  token itself (``Authorization: Bearer``); the ``token`` parameter, if sent,
  must be that same token: a staff member revokes only their own.
"""

from __future__ import annotations

import binascii
import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kojin.core.errors import InvalidInput, KojinError
from kojin.staff import reasons
from kojin.staff.login import GRANT_TYPE
from kojin.staff.service import StaffService
from kojin.web.limits import JSON_TYPES, register_body
from kojin.web.security import MAX_FORM_BYTES

MAX_BODY_BYTES = 32 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 6749 §5.2's error body — not the app's one error shape, which OAuth clients would not read.
_OAUTH_ERROR: dict[str, Any] = {
    "description": "OAuth 2 の誤り（理由コード付き）。 An OAuth error (RFC 6749 §5.2) with kojin's reason code.",
    "content": {
        "application/json": {
            "schema": {
                "title": "OAuthError",
                "type": "object",
                "required": ["error", "error_description", "reason", "field"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                    "reason": {"type": "string"},
                    "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
            }
        }
    },
}
OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {400: _OAUTH_ERROR, 401: _OAUTH_ERROR}
_FIELDS = {"grant_type": 200, "challenge": 300, "certificate": 12_000, "signature": 1_400, "token": 2_048}


def oauth_error(error: str, exc: KojinError, status: int = 400, headers: dict[str, str] | None = None) -> JSONResponse:
    """RFC 6749 §5.2's error body, with kojin's reason code and field beside it."""
    body = {"error": error, "error_description": exc.message, "reason": exc.code, "field": exc.field}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


async def read_parameters(request: Request) -> dict[str, str]:
    """The request's parameters, from a form or a JSON object; each a string, each once, bounded."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise reasons.BAD_TOKEN_REQUEST.error(name="body")
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            raise reasons.BAD_TOKEN_REQUEST.error(name="body") from None
        if not isinstance(parsed, dict):
            raise reasons.BAD_TOKEN_REQUEST.error(name="body")
        items = {k: [v] for k, v in parsed.items()}
    else:
        try:
            items = {k: list(v) for k, v in parse_qs(body.decode("utf-8"), max_num_fields=16).items()}
        except (UnicodeDecodeError, ValueError):
            raise reasons.BAD_TOKEN_REQUEST.error(name="body") from None
    found: dict[str, str] = {}
    for name, limit in _FIELDS.items():
        values = items.get(name)
        if values is None:
            continue
        # RFC 6749 §3.2: parameters must not be included more than once.
        if len(values) != 1 or not isinstance(values[0], str) or len(values[0]) > limit:
            raise reasons.BAD_TOKEN_REQUEST.error(name=name, field=name)
        found[name] = values[0]
    return found


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise reasons.BAD_TOKEN_REQUEST.error(name=name, field=name)
    return value


def _b64(value: str, name: str) -> bytes:
    try:
        return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (ValueError, UnicodeEncodeError):
        raise reasons.BAD_TOKEN_REQUEST.error(name=name, field=name) from None


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


FORM_TYPE = "application/x-www-form-urlencoded"


def make_router(staff: StaffService) -> APIRouter:
    router = APIRouter(prefix="/staff/token", tags=["staff 職員"])
    # OAuth 2 clients post forms (RFC 6749 §4.1.3, RFC 7009 §2.1); JSON is taken too.
    for path in ("/staff/token", "/staff/token/revoke"):
        register_body(path, limit=MAX_FORM_BYTES, content_types=(*JSON_TYPES, FORM_TYPE))

    @router.post("/challenge")
    def challenge() -> JSONResponse:
        """A one-time challenge for the staff card to sign after its 4-digit PIN."""
        issued = staff.challenge()
        return JSONResponse({"challenge": issued.value, "expires_at": issued.expires_at}, headers=NO_STORE)

    @router.post("", responses=OAUTH_ERRORS)
    async def token(request: Request) -> Response:
        """Trade a staff card's signed challenge for a bearer token (RFC 6749 §5.1)."""
        try:
            params = await read_parameters(request)
            grant = _required(params, "grant_type")
            if grant != GRANT_TYPE:
                unsupported = reasons.BAD_TOKEN_REQUEST.error(name="grant_type", field="grant_type")
                return oauth_error("unsupported_grant_type", unsupported)
            answer = (
                _required(params, "challenge"),
                _b64(_required(params, "certificate"), "certificate"),
                _b64(_required(params, "signature"), "signature"),
            )
        except KojinError as exc:
            return oauth_error("invalid_request", exc)
        try:
            # On a worker thread: the check asks OCSP and commits the challenge's single use.
            issued = await run_in_threadpool(staff.login_with_card, *answer)
        except InvalidInput as exc:
            return oauth_error("invalid_request", exc)
        except KojinError as exc:
            return oauth_error("invalid_grant", exc)
        body: dict[str, Any] = {
            "access_token": issued.access_token,
            "token_type": issued.token_type,
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
        return JSONResponse(body, headers=NO_STORE)

    @router.post("/revoke", response_class=Response, responses=OAUTH_ERRORS)
    async def revoke(request: Request) -> Response:
        """Logout (RFC 7009): the bearer token revokes itself."""
        bearer = _bearer(request)
        try:
            principal = staff.check_token(bearer)
        except KojinError as exc:
            return oauth_error("invalid_token", exc, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        try:
            params = await read_parameters(request)
        except KojinError as exc:
            return oauth_error("invalid_request", exc)
        if params.get("token") not in (None, bearer):
            return oauth_error("invalid_request", reasons.BAD_TOKEN_REQUEST.error(name="token", field="token"))
        staff.revoke_token(principal)
        return Response(status_code=200, headers=NO_STORE)

    return router
