"""A relying party's OCSP client (OCSPクライアント): ask, then check the answer before trusting it.

:class:`OcspClient` builds an OCSP lookup — a callable ``(certificate, issuer)
-> OcspAnswer`` — from a transport (HTTP, or the responder in process) and
checks each response's signer, signature, CertID, nonce and freshness. The
responder's side is :mod:`kojin.pki.ocsp`; the cache in front of any lookup is
:mod:`kojin.pki.ocsp_cache`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp

from kojin.core.errors import KojinError, Unauthenticated
from kojin.pki import reasons
from kojin.pki.domain import as_utc
from kojin.pki.ocsp import OCSP_REQUEST_TYPE, issuer_key_hash, issuer_name_hash

CLOCK_SKEW: Final = timedelta(minutes=5)


class OcspStatus(StrEnum):
    """失効確認の結果 as OCSP states it."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class OcspAnswer:
    """The part of an OCSP response a relying party acts on (失効確認の回答)."""

    status: OcspStatus
    this_update: datetime
    next_update: datetime | None
    revocation_time: datetime | None = None
    reason: str | None = None


OcspLookup = Callable[[x509.Certificate, x509.Certificate], OcspAnswer]


def _ocsp_invalid(detail: str) -> Unauthenticated:
    return reasons.OCSP_INVALID.error(detail=detail)


def _unavailable(detail: str) -> Unauthenticated:
    return reasons.REVOCATION_UNAVAILABLE.error(detail=detail)


def build_ocsp_request(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    """A DER OCSPRequest for one certificate (CertID with SHA-256 by default)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, algorithm or hashes.SHA256())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _verify_response_signature(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
    algorithm = response.signature_hash_algorithm
    if algorithm is None:
        raise _ocsp_invalid("no signature hash algorithm")
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            raise _ocsp_invalid("unsupported issuer key")
    except InvalidSignature:
        raise _ocsp_invalid("signature does not verify") from None


def _check_signer_and_subject(
    response: ocsp.OCSPResponse, certificate: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None
) -> None:
    """The issuing CA signed it, about this certificate, echoing our nonce."""
    # Only the issuing CA may answer: kojin has no delegated responders.
    by_key = response.responder_key_hash
    if by_key is not None:
        if by_key != issuer_key_hash(issuer, hashes.SHA1()):
            raise _ocsp_invalid("signed by someone other than the issuing CA")
    elif response.responder_name != issuer.subject:
        raise _ocsp_invalid("signed by someone other than the issuing CA")
    _verify_response_signature(response, issuer)
    algorithm = response.hash_algorithm
    if (
        response.serial_number != certificate.serial_number
        or response.issuer_name_hash != issuer_name_hash(issuer, algorithm)
        or response.issuer_key_hash != issuer_key_hash(issuer, algorithm)
    ):
        raise _ocsp_invalid("the answer is about another certificate")
    if nonce is not None:
        try:
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = None
        if echoed != nonce:
            raise _ocsp_invalid("nonce not echoed")


def _fresh_answer(response: ocsp.OCSPResponse, at: datetime) -> OcspAnswer:
    """The answer, if its thisUpdate and nextUpdate put ``at`` inside it (give or take the skew)."""
    this_update = response.this_update_utc
    next_update = response.next_update_utc
    if this_update > at + CLOCK_SKEW:
        raise _ocsp_invalid("thisUpdate is in the future")
    if next_update is not None and next_update < at - CLOCK_SKEW:
        raise _ocsp_invalid("the answer is stale")
    status = response.certificate_status
    if status is ocsp.OCSPCertStatus.REVOKED:
        reason = response.revocation_reason
        return OcspAnswer(
            status=OcspStatus.REVOKED,
            this_update=this_update,
            next_update=next_update,
            revocation_time=response.revocation_time_utc,
            reason=None if reason is None else reason.value,
        )
    return OcspAnswer(
        status=OcspStatus.GOOD if status is ocsp.OCSPCertStatus.GOOD else OcspStatus.UNKNOWN,
        this_update=this_update,
        next_update=next_update,
    )


def read_ocsp_response(
    response_der: bytes,
    *,
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    nonce: bytes | None,
    at: datetime,
) -> OcspAnswer:
    """Check an OCSP response signed by the issuing CA itself and read its answer."""
    try:
        response = ocsp.load_der_ocsp_response(response_der)
    except ValueError:
        raise _ocsp_invalid("not a DER OCSPResponse") from None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise _unavailable(f"responder said {response.response_status.name}")
    try:
        _check_signer_and_subject(response, certificate, issuer, nonce)
        return _fresh_answer(response, at)
    except KojinError:
        raise
    except Exception as exc:
        raise _ocsp_invalid(type(exc).__name__) from exc


def http_fetch(url: str, *, timeout: float = 5.0) -> Callable[[bytes], bytes]:
    """An OCSP transport over HTTP POST (RFC 6960 Appendix A.1)."""

    def fetch(request_der: bytes) -> bytes:
        reply = httpx.post(
            url,
            content=request_der,
            headers={"Content-Type": OCSP_REQUEST_TYPE},
            timeout=timeout,
        )
        reply.raise_for_status()
        return reply.content

    return fetch


class OcspClient:
    """OCSPクライアント: asks through ``fetch`` and checks each answer."""

    def __init__(
        self,
        fetch: Callable[[bytes], bytes],
        *,
        clock: Callable[[], datetime] | None = None,
        use_nonce: bool = True,
    ) -> None:
        self.fetch = fetch
        self._clock = clock or (lambda: datetime.now(UTC))
        self.use_nonce = use_nonce

    def __call__(self, certificate: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        nonce = secrets.token_bytes(16) if self.use_nonce else None
        request = build_ocsp_request(certificate, issuer, nonce=nonce)
        try:
            response = self.fetch(request)
        except KojinError:
            raise
        except Exception as exc:
            raise _unavailable(type(exc).__name__) from exc
        return read_ocsp_response(
            response, certificate=certificate, issuer=issuer, nonce=nonce, at=as_utc(self._clock())
        )
