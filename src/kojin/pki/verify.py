"""What a relying party checks (電子証明書の有効性確認): chain, dates, kind, revocation.

A relying party — the portal, a clinic terminal, a kiosk — holds the three CA
certificates (a :class:`TrustStore`) and a way to ask OCSP; it never reads the
CA's store. :func:`verify_end_entity` checks, in this order and stopping at
the first failure:

1. the bytes are one X.509 v3 certificate (``pki.malformed``);
2. it was issued by one of our issuing CAs — issuer name and key identifier
   (``pki.foreign_ca``) — whose signature over it verifies, as does the
   root's over that CA (``pki.bad_signature``);
3. the certificate and its CAs are valid at ``at`` (``pki.not_yet_valid``,
   ``pki.expired``);
4. it is the kind expected: issuing CA, key usage, extended key usage
   (``pki.wrong_kind``); a signature certificate must carry readable basic
   items (``pki.malformed``);
5. OCSP says it is good (``pki.revoked``; ``pki.revocation_unknown`` when the
   responder does not know it; ``pki.revocation_unavailable`` when there is no
   usable answer — the check fails closed).

Anything unexpected inside the certificate becomes ``pki.malformed``: a
presented certificate never raises anything but a :class:`KojinError`.

Steps 1, 2 and 4 depend on the bytes alone and are cached in
:mod:`kojin.pki.chain`; this module adds the dates and the revocation check,
which are made on every call, and gives the verdict.

The OCSP lookup is a callable ``(certificate, issuer) -> OcspAnswer``.
:class:`OcspClient` (:mod:`kojin.pki.ocsp_client`) builds one from a transport
(HTTP or the responder in process) and checks each response's signature,
CertID, nonce and freshness; :class:`OcspCache` (:mod:`kojin.pki.ocsp_cache`)
wraps any lookup and keeps answers until their nextUpdate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from kojin.core.errors import KojinError
from kojin.pki import reasons
from kojin.pki.chain import StaticFacts, facts_of_bytes, static_facts, wrong_kind
from kojin.pki.domain import BasicFourItems, CertKind, as_utc, malformed
from kojin.pki.ocsp_cache import OcspCache
from kojin.pki.ocsp_client import (
    CLOCK_SKEW,
    OcspAnswer,
    OcspClient,
    OcspLookup,
    OcspStatus,
    build_ocsp_request,
    http_fetch,
    read_ocsp_response,
)
from kojin.pki.trust import TrustStore

__all__ = [
    "CLOCK_SKEW",
    "OcspAnswer",
    "OcspCache",
    "OcspClient",
    "OcspLookup",
    "OcspStatus",
    "TrustStore",
    "VerifiedCertificate",
    "build_ocsp_request",
    "http_fetch",
    "read_ocsp_response",
    "verify_end_entity",
]


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate that passed every check (有効性確認済みの電子証明書)."""

    certificate: x509.Certificate
    serial: int
    kind: CertKind
    subject_ref: str
    not_before: datetime
    not_after: datetime
    basic_items: BasicFourItems | None
    revocation: OcspAnswer


def verify_end_entity(
    cert_der: bytes | x509.Certificate,
    *,
    expected_kind: CertKind,
    at: datetime,
    ocsp_lookup: OcspLookup,
    trust: TrustStore,
) -> VerifiedCertificate:
    """Check a card's certificate as a relying party must; raise the precise reason.

    ``at`` is the moment of use (now, for a login); a naive datetime is taken as UTC.
    """
    try:
        return _verify(cert_der, expected_kind, as_utc(at), ocsp_lookup, trust)
    except KojinError:
        raise
    except Exception as exc:
        raise malformed(type(exc).__name__) from exc


def _verify(
    cert_der: bytes | x509.Certificate,
    expected_kind: CertKind,
    at: datetime,
    ocsp_lookup: OcspLookup,
    trust: TrustStore,
) -> VerifiedCertificate:
    facts = _facts(cert_der, trust, expected_kind)
    _check_dates(facts, at)
    if not facts.right_kind:
        raise wrong_kind(expected_kind)
    answer = _revocation(facts, ocsp_lookup)
    return VerifiedCertificate(
        certificate=facts.certificate,
        serial=facts.serial,
        kind=facts.kind,
        subject_ref=facts.subject_ref,
        not_before=facts.windows[0][0],
        not_after=facts.windows[0][1],
        basic_items=facts.basic_items,
        revocation=answer,
    )


def _facts(cert_der: bytes | x509.Certificate, trust: TrustStore, expected_kind: CertKind) -> StaticFacts:
    """Steps 1, 2 and 4, from the cache when the certificate was seen before."""
    if isinstance(cert_der, x509.Certificate):
        return static_facts(cert_der, trust, expected_kind)
    try:
        raw = bytes(cert_der)
    except (ValueError, TypeError):
        raise malformed("not a DER or PEM X.509 certificate") from None
    return facts_of_bytes(raw, trust, expected_kind)


def _check_dates(facts: StaticFacts, at: datetime) -> None:
    """3. the dates, of the certificate and of the CAs above it."""
    for not_before, not_after, field in facts.windows:
        if at < not_before:
            raise reasons.NOT_YET_VALID.error(field=field)
        if at > not_after:
            raise reasons.EXPIRED.error(field=field)


def _revocation(facts: StaticFacts, ocsp_lookup: OcspLookup) -> OcspAnswer:
    """5. revocation: a good answer, or the precise reason there is none."""
    try:
        answer = ocsp_lookup(facts.certificate, facts.issuer)
    except KojinError:
        raise
    except Exception as exc:
        raise reasons.REVOCATION_UNAVAILABLE.error(detail=type(exc).__name__) from exc
    if answer.status is OcspStatus.REVOKED:
        raise reasons.REVOKED.error()
    if answer.status is not OcspStatus.GOOD:
        raise reasons.REVOCATION_UNKNOWN.error()
    return answer
