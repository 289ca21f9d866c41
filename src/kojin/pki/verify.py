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

The OCSP lookup is a callable ``(certificate, issuer) -> OcspAnswer``.
:class:`OcspClient` builds one from a transport (HTTP or the responder in
process) and checks each response's signature, CertID, nonce and freshness;
:class:`OcspCache` wraps any lookup and keeps answers until their nextUpdate.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Final

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from kojin.core.errors import KojinError, NotPermitted, Unauthenticated
from kojin.pki.domain import (
    PROFILES,
    BasicFourItems,
    CertKind,
    as_utc,
    basic_items_from_other_names,
    malformed,
)
from kojin.pki.ocsp import OCSP_REQUEST_TYPE, issuer_key_hash, issuer_name_hash

CLOCK_SKEW: Final = timedelta(minutes=5)

# Extensions this verifier understands; any other marked critical is refused
# (RFC 5280 §4.2).
_KNOWN_CRITICAL: Final = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.CERTIFICATE_POLICIES,
    }
)


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


def _load_certificate(data: bytes | x509.Certificate) -> x509.Certificate:
    if isinstance(data, x509.Certificate):
        return data
    raw = bytes(data)
    if raw.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


def _key_identifier(certificate: x509.Certificate) -> bytes:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest


@dataclass(frozen=True)
class TrustStore:
    """信頼点: our root CA and the two issuing CAs under it."""

    root: x509.Certificate
    sign_ca: x509.Certificate
    auth_ca: x509.Certificate
    _hash: int = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for certificate in (self.root, self.sign_ca, self.auth_ca):
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
            if not constraints.value.ca:
                raise ValueError(f"{certificate.subject.rfc4514_string()} is not a CA")
        # The store is part of every verification cache key; a certificate
        # hashes its whole DER on each call, so three of them cost ~8 µs a login.
        object.__setattr__(self, "_hash", hash((self.root, self.sign_ca, self.auth_ca)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def from_pem(cls, root: bytes, sign_ca: bytes, auth_ca: bytes) -> TrustStore:
        return cls(
            root=x509.load_pem_x509_certificate(root),
            sign_ca=x509.load_pem_x509_certificate(sign_ca),
            auth_ca=x509.load_pem_x509_certificate(auth_ca),
        )

    def issuing_ca(self, kind: CertKind) -> x509.Certificate:
        return self.sign_ca if kind is CertKind.SIGN else self.auth_ca

    def issuer_of(self, certificate: x509.Certificate) -> tuple[CertKind, x509.Certificate] | None:
        """Our issuing CA whose name and key identifier match the certificate's issuer."""
        try:
            aki: bytes | None = certificate.extensions.get_extension_for_class(
                x509.AuthorityKeyIdentifier
            ).value.key_identifier
        except x509.ExtensionNotFound:
            aki = None
        for kind in CertKind:
            ca = self.issuing_ca(kind)
            if ca.subject != certificate.issuer:
                continue
            if aki is not None and aki != _key_identifier(ca):
                continue
            return kind, ca
        return None


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


def _reject(code: str, ja: str, en: str, field: str = "certificate") -> Unauthenticated:
    return Unauthenticated(code, ja, en, field=field)


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


def _directly_issued(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key signed ``certificate``."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


@lru_cache(maxsize=64)
def _ca_under_root(issuer: x509.Certificate, root: x509.Certificate) -> bool:
    """Whether the root signed this issuing CA: the same few pairs every time."""
    return _directly_issued(issuer, root)


@dataclass(frozen=True)
class _StaticFacts:
    """What a certificate's bytes alone decide: chain, kind, contents, validity windows."""

    certificate: x509.Certificate
    serial: int
    kind: CertKind
    issuer: x509.Certificate
    basic_items: BasicFourItems | None
    subject_ref: str
    windows: tuple[tuple[datetime, datetime, str], ...]
    # Whether it is the kind asked for; refused only after the dates, so
    # that the reasons keep their order.
    right_kind: bool


# Both caches keep successes only (a failure raises): a signature over fixed
# bytes verifies the same way every time, so a card that logs in daily pays
# for parsing and RSA once, not once a login. Dates and revocation are never
# cached here; :func:`_verify` checks them on every call.


# ~8 KB an entry (the certificate object with its bytes): 20,000 cards that log
# in again and again cost ~160 MB; a card not in the cache costs one parse.
@lru_cache(maxsize=20_000)
def _facts_of_bytes(raw: bytes, trust: TrustStore, expected_kind: CertKind) -> _StaticFacts:
    """Static facts keyed by the presented bytes themselves.

    A login presents fresh bytes each time: hashing them costs less than
    parsing them into a certificate first (whose hash rehashes its DER on
    every call), and equal bytes are the same certificate.
    """
    try:
        certificate = _load_certificate(raw)
    except (ValueError, TypeError):
        raise malformed("not a DER or PEM X.509 certificate") from None
    return _static_facts_uncached(certificate, trust, expected_kind)


@lru_cache(maxsize=10_000)
def _static_facts(certificate: x509.Certificate, trust: TrustStore, expected_kind: CertKind) -> _StaticFacts:
    """Static facts of an already parsed certificate (callers inside kojin)."""
    return _static_facts_uncached(certificate, trust, expected_kind)


def _static_facts_uncached(certificate: x509.Certificate, trust: TrustStore, expected_kind: CertKind) -> _StaticFacts:
    """The checks whose answer cannot change for the same certificate and trust store."""
    if certificate.version is not x509.Version.v3:
        raise malformed("not an X.509 v3 certificate")
    extensions = certificate.extensions  # parsing errors surface here, as malformed

    # 2. chain: try the CA the caller expects first, so a login needs no name parsing
    found = None
    for kind in (expected_kind, *(k for k in CertKind if k is not expected_kind)):
        if _directly_issued(certificate, trust.issuing_ca(kind)):
            found = (kind, trust.issuing_ca(kind))
            break
    if found is None:
        if trust.issuer_of(certificate) is not None:
            raise _reject(
                "pki.bad_signature",
                "電子証明書の署名が正しくありません。",
                "The issuing CA's signature on the certificate does not verify.",
            )
        raise _reject(
            "pki.foreign_ca",
            "この電子証明書は公的個人認証サービスの認証局が発行したものではありません。",
            "The certificate was not issued by one of our CAs.",
        )
    kind, issuer = found
    if not _ca_under_root(issuer, trust.root):
        raise _reject(
            "pki.bad_signature",
            "認証局の証明書の署名が正しくありません。",
            "The root's signature on the issuing CA does not verify.",
            field="issuer",
        )

    # 4. kind
    for extension in extensions:
        if extension.critical and extension.oid not in _KNOWN_CRITICAL:
            raise malformed(f"unknown critical extension {extension.oid.dotted_string}")
    basic_items: BasicFourItems | None = None
    if kind is CertKind.SIGN and expected_kind is CertKind.SIGN:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        basic_items = basic_items_from_other_names(
            (name.type_id.dotted_string, name.value) for name in san.get_values_for_type(x509.OtherName)
        )
    subject_ref = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    windows = tuple(
        (checked.not_valid_before_utc, checked.not_valid_after_utc, field)
        for checked, field in ((certificate, "certificate"), (issuer, "issuer"), (trust.root, "root"))
    )
    return _StaticFacts(
        certificate=certificate,
        serial=certificate.serial_number,
        kind=kind,
        issuer=issuer,
        basic_items=basic_items,
        subject_ref=str(subject_ref[0].value) if subject_ref else "",
        windows=windows,
        right_kind=kind is expected_kind and _profile_matches(certificate, expected_kind),
    )


def _verify(
    cert_der: bytes | x509.Certificate,
    expected_kind: CertKind,
    at: datetime,
    ocsp_lookup: OcspLookup,
    trust: TrustStore,
) -> VerifiedCertificate:
    if isinstance(cert_der, x509.Certificate):
        facts = _static_facts(cert_der, trust, expected_kind)
    else:
        try:
            raw = bytes(cert_der)
        except (ValueError, TypeError):
            raise malformed("not a DER or PEM X.509 certificate") from None
        facts = _facts_of_bytes(raw, trust, expected_kind)

    # 3. dates, of the certificate and of the CAs above it
    for not_before, not_after, field in facts.windows:
        if at < not_before:
            raise _reject(
                "pki.not_yet_valid",
                "電子証明書の有効期間がまだ始まっていません。",
                "The certificate is not valid yet.",
                field=field,
            )
        if at > not_after:
            raise _reject(
                "pki.expired",
                "電子証明書の有効期限が切れています。",
                "The certificate has expired.",
                field=field,
            )
    if not facts.right_kind:
        raise _wrong_kind(expected_kind)

    # 5. revocation
    certificate = facts.certificate
    try:
        answer = ocsp_lookup(certificate, facts.issuer)
    except KojinError:
        raise
    except Exception as exc:
        raise _reject(
            "pki.revocation_unavailable",
            "失効情報を確認できません。",
            f"The revocation status could not be checked ({type(exc).__name__}).",
        ) from exc
    if answer.status is OcspStatus.REVOKED:
        raise _reject("pki.revoked", "この電子証明書は失効しています。", "The certificate has been revoked.")
    if answer.status is not OcspStatus.GOOD:
        raise _reject(
            "pki.revocation_unknown",
            "この電子証明書の失効情報がありません。",
            "The OCSP responder does not know this certificate.",
        )
    return VerifiedCertificate(
        certificate=certificate,
        serial=facts.serial,
        kind=facts.kind,
        subject_ref=facts.subject_ref,
        not_before=facts.windows[0][0],
        not_after=facts.windows[0][1],
        basic_items=facts.basic_items,
        revocation=answer,
    )


def _wrong_kind(expected: CertKind) -> NotPermitted:
    label = PROFILES[expected]
    return NotPermitted(
        "pki.wrong_kind",
        f"{label.label_ja}ではありません。",
        f"This is not a {label.label_en}.",
        field="certificate",
    )


def _profile_matches(certificate: x509.Certificate, expected: CertKind) -> bool:
    try:
        _check_profile(certificate, expected)
    except NotPermitted:
        return False
    return True


def _check_profile(certificate: x509.Certificate, expected: CertKind) -> None:
    extensions = certificate.extensions
    try:
        constraints = extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            raise _wrong_kind(expected)
    except x509.ExtensionNotFound:
        pass
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise _wrong_kind(expected) from None
    if usage.key_cert_sign or usage.crl_sign:
        raise _wrong_kind(expected)
    if any(not getattr(usage, bit) for bit in PROFILES[expected].key_usage):
        raise _wrong_kind(expected)
    if expected is CertKind.AUTH:
        try:
            eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            raise _wrong_kind(expected) from None
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise _wrong_kind(expected)


# -- OCSP client ----------------------------------------------------------------


def _ocsp_invalid(detail: str) -> Unauthenticated:
    return _reject(
        "pki.ocsp_invalid",
        "OCSP応答が正しくありません。",
        f"The OCSP response is not acceptable: {detail}.",
    )


def _unavailable(detail: str) -> Unauthenticated:
    return _reject(
        "pki.revocation_unavailable",
        "失効情報を確認できません。",
        f"The revocation status could not be checked: {detail}.",
    )


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


class OcspCache:
    """OCSP応答のキャッシュ: keeps each answer until its nextUpdate, then asks again.

    Unknown answers and answers without nextUpdate are not kept. The cache is
    bounded; when full, the oldest entry goes first.
    """

    def __init__(
        self,
        lookup: OcspLookup,
        *,
        clock: Callable[[], datetime] | None = None,
        max_entries: int = 10_000,
    ) -> None:
        if max_entries < 1:
            raise ValueError("an OCSP cache holds at least one answer")
        self.lookup = lookup
        self._clock = clock or (lambda: datetime.now(UTC))
        self.max_entries = max_entries
        self._entries: dict[tuple[bytes, int], OcspAnswer] = {}
        # Issuer certificate objects seen -> their SHA-256 fingerprint. A
        # certificate rehashes its whole DER on every hash(), and a login
        # passes the trust store's own issuer object, so it is recognised by
        # identity; the entry holds the object, so its id cannot be reused.
        self._issuers: dict[int, tuple[x509.Certificate, bytes]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _issuer_id(self, issuer: x509.Certificate) -> bytes:
        known = self._issuers.get(id(issuer))
        if known is not None and known[0] is issuer:
            return known[1]
        fingerprint = issuer.fingerprint(hashes.SHA256())
        with self._lock:
            if len(self._issuers) >= 64:  # a few CAs, a new object per trust-store reload
                self._issuers.clear()
            self._issuers[id(issuer)] = (issuer, fingerprint)
        return fingerprint

    def __call__(self, certificate: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        key = (self._issuer_id(issuer), certificate.serial_number)
        now = as_utc(self._clock())
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached.next_update is not None and now < cached.next_update:
                self.hits += 1
                return cached
            self._entries.pop(key, None)
            self.misses += 1
        answer = self.lookup(certificate, issuer)
        if answer.status is not OcspStatus.UNKNOWN and answer.next_update is not None and now < answer.next_update:
            with self._lock:
                while len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = answer
        return answer

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
