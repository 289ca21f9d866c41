"""HTTP endpoints of the CA (認証局の公開エンドポイント): CA certificates, CRLs, OCSP.

These are the URLs written into every certificate (AIA, CRL distribution
point), so they take no authentication and expose nothing but public
material. OCSP always answers with an OCSP response — ``malformedRequest``
for garbage, ``internalError`` if something breaks — never with an HTTP error,
because OCSP clients read the body, not the status line.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from urllib.parse import unquote

from cryptography.x509.ocsp import OCSPResponseStatus
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kojin.core.errors import KojinError
from kojin.pki.ocsp import (
    MAX_REQUEST_BYTES,
    OCSP_RESPONSE_TYPE,
    OcspReply,
    OcspResponder,
    unsuccessful_reply,
)
from kojin.pki.service import CertificateAuthority
from kojin.web.limits import register_body
from kojin.web.openapi import binary_answer

PEM_TYPE = "application/x-pem-file"
CERT_TYPE = "application/pkix-cert"
CRL_TYPE = "application/pkix-crl"


def _error(error: KojinError) -> JSONResponse:
    return JSONResponse({"error": error.as_dict()}, status_code=error.status)


def _ocsp_response(reply: OcspReply, *, cacheable: bool) -> Response:
    headers = {"Cache-Control": "no-store"}
    # RFC 5019 §6: a GET answer without a nonce may be cached until nextUpdate.
    if cacheable and not reply.has_nonce and reply.next_update is not None:
        max_age = int((reply.next_update - datetime.now(UTC)).total_seconds())
        if max_age > 0:
            headers = {"Cache-Control": f"max-age={max_age}, public, no-transform, must-revalidate"}
    return Response(content=reply.der, media_type=OCSP_RESPONSE_TYPE, headers=headers)


def _malformed() -> OcspReply:
    return unsuccessful_reply(OCSPResponseStatus.MALFORMED_REQUEST)


def decode_get_request(encoded: str) -> bytes | None:
    """The DER request in an RFC 6960 A.1 GET path: URL-encoded base64."""
    text = unquote(encoded).strip().replace(" ", "+")  # some clients leave '+' to be mangled
    text = text.replace("-", "+").replace("_", "/")  # tolerate the URL-safe alphabet
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def make_router(ca_service: CertificateAuthority, *, responder: OcspResponder | None = None) -> APIRouter:
    """The CA's public routes under ``/pki``."""
    router = APIRouter(tags=["pki"])
    ocsp_responder = responder or OcspResponder(ca_service)

    @router.get("/pki/ca/{name}.pem", response_class=Response, responses=binary_answer(PEM_TYPE, "CA証明書 (PEM)"))
    def ca_pem(name: str) -> Response:
        try:
            return Response(content=ca_service.ca_pem(name), media_type=PEM_TYPE)
        except KojinError as error:
            return _error(error)

    @router.get("/pki/ca/{name}.cer", response_class=Response, responses=binary_answer(CERT_TYPE, "CA証明書 (DER)"))
    def ca_der(name: str) -> Response:
        try:
            return Response(content=ca_service.ca_der(name), media_type=CERT_TYPE)
        except KojinError as error:
            return _error(error)

    @router.get("/pki/crl/{name}.crl", response_class=Response, responses=binary_answer(CRL_TYPE, "失効リスト (DER)"))
    def crl(name: str) -> Response:
        try:
            return Response(content=ca_service.crl_der(name), media_type=CRL_TYPE)
        except KojinError as error:
            return _error(error)

    # RFC 6960 Appendix A: a DER request, not JSON.
    register_body("/pki/ocsp", limit=MAX_REQUEST_BYTES, content_types=("application/ocsp-request",))

    # Every answer, a malformed request's included, is an OCSP response (RFC 6960 §2.3).
    ocsp_answer = binary_answer(OCSP_RESPONSE_TYPE, "OCSP応答 (DER)")

    @router.post("/pki/ocsp", response_class=Response, responses=ocsp_answer)
    async def ocsp_post(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST_BYTES:
                return _ocsp_response(_malformed(), cacheable=False)
        reply = await run_in_threadpool(ocsp_responder.answer, bytes(body))
        return _ocsp_response(reply, cacheable=False)

    @router.get("/pki/ocsp/{encoded:path}", response_class=Response, responses=ocsp_answer)
    def ocsp_get(encoded: str) -> Response:
        der = decode_get_request(encoded)
        if der is None:
            return _ocsp_response(_malformed(), cacheable=False)
        reply = ocsp_responder.answer(der)
        return _ocsp_response(reply, cacheable=True)

    return router
