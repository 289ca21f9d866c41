"""What a certificate's bytes alone decide: chain to our root, profile, contents, validity windows.

These answers cannot change for the same certificate and trust store, so they
are cached (successes only; a failure raises): a signature over fixed bytes
verifies the same way every time, and a card that logs in daily pays for
parsing and RSA once, not once a login. Dates and revocation change with time
and are checked on every call by :mod:`kojin.pki.verify`, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from kojin.core.errors import NotPermitted
from kojin.pki import reasons
from kojin.pki.domain import (
    PROFILES,
    RESIDENT_KINDS,
    BasicFourItems,
    CertKind,
    basic_items_from_other_names,
    malformed,
)
from kojin.pki.trust import TrustStore

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


@dataclass(frozen=True)
class StaticFacts:
    """What a certificate's bytes alone decide: chain, kind, contents, validity windows."""

    certificate: x509.Certificate
    serial: int
    kind: CertKind
    issuer: x509.Certificate
    basic_items: BasicFourItems | None
    subject_ref: str
    # (notBefore, notAfter, field) of the certificate, its CA and the root.
    windows: tuple[tuple[datetime, datetime, str], ...]
    # Whether it is the kind asked for; refused only after the dates, so
    # that the reasons keep their order.
    right_kind: bool


def wrong_kind(expected: CertKind) -> NotPermitted:
    label = PROFILES[expected]
    return reasons.WRONG_KIND.error(label_ja=label.label_ja, label_en=label.label_en)


def _load_certificate(data: bytes | x509.Certificate) -> x509.Certificate:
    if isinstance(data, x509.Certificate):
        return data
    raw = bytes(data)
    if raw.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


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


# ~8 KB an entry (the certificate object with its bytes): 20,000 cards that log
# in again and again cost ~160 MB; a card not in the cache costs one parse.
@lru_cache(maxsize=20_000)
def facts_of_bytes(raw: bytes, trust: TrustStore, expected_kind: CertKind) -> StaticFacts:
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
def static_facts(certificate: x509.Certificate, trust: TrustStore, expected_kind: CertKind) -> StaticFacts:
    """Static facts of an already parsed certificate (callers inside kojin)."""
    return _static_facts_uncached(certificate, trust, expected_kind)


def _issuing_ca(
    certificate: x509.Certificate, trust: TrustStore, expected_kind: CertKind
) -> tuple[CertKind, x509.Certificate]:
    """Which of our issuing CAs signed the certificate, itself signed by our root."""
    # Try the CA the caller expects first, so a login needs no name parsing.
    # A staff certificate is never one of these: its CA is not in a resident trust store.
    found = None
    first = (expected_kind,) if expected_kind in RESIDENT_KINDS else ()
    for kind in (*first, *(k for k in RESIDENT_KINDS if k is not expected_kind)):
        if _directly_issued(certificate, trust.issuing_ca(kind)):
            found = (kind, trust.issuing_ca(kind))
            break
    if found is None:
        if trust.issuer_of(certificate) is not None:
            raise reasons.BAD_SIGNATURE.error(
                what_ja="電子証明書", signer_en="The issuing CA", what_en="the certificate"
            )
        raise reasons.FOREIGN_CA.error()
    if not _ca_under_root(found[1], trust.root):
        raise reasons.BAD_SIGNATURE.error(
            what_ja="認証局の証明書", signer_en="The root", what_en="the issuing CA", field="issuer"
        )
    return found


def _static_facts_uncached(certificate: x509.Certificate, trust: TrustStore, expected_kind: CertKind) -> StaticFacts:
    """The checks whose answer cannot change for the same certificate and trust store."""
    if certificate.version is not x509.Version.v3:
        raise malformed("not an X.509 v3 certificate")
    extensions = certificate.extensions  # parsing errors surface here, as malformed

    # 2. chain
    kind, issuer = _issuing_ca(certificate, trust, expected_kind)

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
    return StaticFacts(
        certificate=certificate,
        serial=certificate.serial_number,
        kind=kind,
        issuer=issuer,
        basic_items=basic_items,
        subject_ref=str(subject_ref[0].value) if subject_ref else "",
        windows=windows,
        right_kind=kind is expected_kind and _profile_matches(certificate, expected_kind),
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
            raise wrong_kind(expected)
    except x509.ExtensionNotFound:
        pass
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise wrong_kind(expected) from None
    if usage.key_cert_sign or usage.crl_sign:
        raise wrong_kind(expected)
    if any(not getattr(usage, bit) for bit in PROFILES[expected].key_usage):
        raise wrong_kind(expected)
    if expected in (CertKind.AUTH, CertKind.STAFF):
        try:
            eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            raise wrong_kind(expected) from None
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise wrong_kind(expected)
