"""OCSP responder (オンライン証明書状態プロトコル応答局), RFC 6960.

Each issuing CA signs the answers about its own certificates itself: no
delegated responder certificate. A relying party therefore needs nothing but
the issuing CA certificate it already has to check an answer, and there is no
responder key to protect, rotate or revoke besides the CA's. The cost is one
CA-key signature per answer, which an HSM-backed CA would want to cache;
kojin signs each answer fresh.

Answers are ``good``, ``revoked`` (with time and reason) or ``unknown`` (a
serial this CA never issued), with thisUpdate = now and nextUpdate = now +
``validity``; relying parties may cache an answer until its nextUpdate. A
request nonce (RFC 8954, 1–32 octets) is echoed. Garbage, a request with more
than one certificate (cryptography parses single requests only) or an
oversized nonce get ``malformedRequest``; a request about an issuer that is not
one of ours gets ``unauthorized``; a failure on our side ``internalError`` —
never an exception to the caller.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from kojin.pki.domain import ROOT_CA, CertStatus, RevocationReason

if TYPE_CHECKING:
    from kojin.pki.service import CertificateAuthority

logger = logging.getLogger(__name__)

DEFAULT_VALIDITY: Final = timedelta(minutes=10)
MAX_REQUEST_BYTES: Final = 16 * 1024
MAX_NONCE_BYTES: Final = 32
CERT_ID_HASHES: Final[tuple[hashes.HashAlgorithm, ...]] = (
    hashes.SHA1(),
    hashes.SHA224(),
    hashes.SHA256(),
    hashes.SHA384(),
    hashes.SHA512(),
)

OCSP_REQUEST_TYPE: Final = "application/ocsp-request"
OCSP_RESPONSE_TYPE: Final = "application/ocsp-response"


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _der_header(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at ``offset``."""
    tag = data[offset]
    first = data[offset + 1]
    if first < 0x80:
        return tag, offset + 2, offset + 2 + first
    count = first & 0x7F
    length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    start = offset + 2 + count
    return tag, start, start + length


def public_key_bits(certificate: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's value, as RFC 6960 hashes for issuerKeyHash."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, inner, _ = _der_header(spki, 0)  # SubjectPublicKeyInfo SEQUENCE
    _, _, after_algorithm = _der_header(spki, inner)  # AlgorithmIdentifier
    tag, start, end = _der_header(spki, after_algorithm)
    if tag != 0x03:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return spki[start + 1 : end]  # drop the unused-bits octet


def issuer_name_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    return _digest(algorithm, issuer.subject.public_bytes())


def issuer_key_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    return _digest(algorithm, public_key_bits(issuer))


@dataclass(frozen=True)
class OcspReply:
    """One OCSP response (OCSP応答) and what it says, for HTTP caching and tests."""

    der: bytes
    response_status: ocsp.OCSPResponseStatus
    cert_status: ocsp.OCSPCertStatus | None = None
    next_update: datetime | None = None
    # A nonce makes the answer unique to one request, so it must not be cached.
    has_nonce: bool = False


def unsuccessful_reply(status: ocsp.OCSPResponseStatus) -> OcspReply:
    """An OCSP response that carries only an error status (no signature, per RFC 6960)."""
    der = ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
    return OcspReply(der=der, response_status=status)


class OcspResponder:
    """The CA's OCSP responder (OCSPレスポンダ): answers about our certificates only."""

    def __init__(self, authority: CertificateAuthority, *, validity: timedelta = DEFAULT_VALIDITY) -> None:
        self.authority = authority
        self.validity = validity
        self._issuers: dict[tuple[str, bytes, bytes], str] | None = None
        self._lock = threading.Lock()

    def respond(self, request_der: bytes) -> bytes:
        """DER OCSPRequest in, DER OCSPResponse out; never raises."""
        return self.answer(request_der).der

    def answer(self, request_der: bytes) -> OcspReply:
        if len(request_der) > MAX_REQUEST_BYTES:
            return unsuccessful_reply(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            serial = request.serial_number
            name_hash = request.issuer_name_hash
            key_hash = request.issuer_key_hash
            nonce = self._nonce(request)
        except (ValueError, TypeError, NotImplementedError):
            return unsuccessful_reply(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_BYTES:
            return unsuccessful_reply(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        try:
            algorithm = request.hash_algorithm
        except UnsupportedAlgorithm:
            # We cannot compute a CertID with that hash, so no issuer of ours matches.
            return unsuccessful_reply(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        try:
            return self._answer(serial, name_hash, key_hash, algorithm, nonce)
        except Exception:
            logger.exception("OCSP responder failed")
            return unsuccessful_reply(ocsp.OCSPResponseStatus.INTERNAL_ERROR)

    @staticmethod
    def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
        try:
            return request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            return None

    def _issuer_index(self, *, refresh: bool = False) -> dict[tuple[str, bytes, bytes], str]:
        """CertID hashes of every CA → its name; staff CAs made since are found by ``refresh``."""
        with self._lock:
            if self._issuers is None or refresh:
                names = self.authority.ca_names()
                if self._issuers is not None and set(names) == set(self._issuers.values()):
                    return self._issuers
                index: dict[tuple[str, bytes, bytes], str] = {}
                for name in names:
                    certificate = self.authority.ca(name).certificate
                    for algorithm in CERT_ID_HASHES:
                        index[
                            (
                                algorithm.name,
                                issuer_name_hash(certificate, algorithm),
                                issuer_key_hash(certificate, algorithm),
                            )
                        ] = name
                self._issuers = index
            return self._issuers

    def _answer(
        self,
        serial: int,
        name_hash: bytes,
        key_hash: bytes,
        algorithm: hashes.HashAlgorithm,
        nonce: bytes | None,
    ) -> OcspReply:
        key = (algorithm.name, name_hash, key_hash)
        ca_name = self._issuer_index().get(key) or self._issuer_index(refresh=True).get(key)
        if ca_name is None:
            return unsuccessful_reply(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        status, revoked_at, reason = self._status(ca_name, serial)
        material = self.authority.ca(ca_name)
        now = self.authority.now()
        next_update = now + self.validity
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=name_hash,
                issuer_key_hash=key_hash,
                serial_number=serial,
                algorithm=algorithm,
                cert_status=status,
                this_update=now,
                next_update=next_update,
                revocation_time=revoked_at,
                revocation_reason=reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, material.certificate)
            # The signer is the issuer the client asked about; shipping its
            # certificate lets clients that were not given it (openssl without
            # -verify_other) find the signer all the same.
            .certificates([material.certificate])
        )
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        der = builder.sign(material.signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        return OcspReply(
            der=der,
            response_status=ocsp.OCSPResponseStatus.SUCCESSFUL,
            cert_status=status,
            next_update=next_update,
            has_nonce=nonce is not None,
        )

    def _status(
        self, ca_name: str, serial: int
    ) -> tuple[ocsp.OCSPCertStatus, datetime | None, x509.ReasonFlags | None]:
        if ca_name == ROOT_CA:
            # The root's only certificates are the issuing and staff CAs, never revoked.
            under_root = [n for n in self.authority.ca_names() if n != ROOT_CA]
            issued = {self.authority.ca(name).certificate.serial_number for name in under_root}
            status = ocsp.OCSPCertStatus.GOOD if serial in issued else ocsp.OCSPCertStatus.UNKNOWN
            return status, None, None
        record = self.authority.find(serial)
        if record is None or record.ca != ca_name:
            return ocsp.OCSPCertStatus.UNKNOWN, None, None
        if record.status is CertStatus.REVOKED:
            reason = record.reason or RevocationReason.UNSPECIFIED
            return (
                ocsp.OCSPCertStatus.REVOKED,
                record.revoked_at,
                None if reason is RevocationReason.UNSPECIFIED else x509.ReasonFlags[reason.value],
            )
        return ocsp.OCSPCertStatus.GOOD, None, None
