"""Staff authentication certificates (職員認証用電子証明書): issued by each organisation's staff CA.

Not part of JPKI: kojin's staff log in with a card like a resident's, whose
authentication slot holds a certificate from their organisation's own CA under
the J-LIS root (``staff-municipality-131016``, ``staff-jlis`` …). The subject
names the staff id (CN) and the organisation (OU), never a role: roles live in
the staff roster and may change while the card does not.

A resident's trust store (:class:`~kojin.pki.trust.TrustStore`) does not hold
the staff CAs, so a staff certificate never passes a resident check; a
:class:`StaffTrust` holds only the staff CAs, so a resident's certificate
never passes :func:`verify_staff_certificate`. Both refuse the other as
``pki.foreign_ca``.

:func:`verify_staff_certificate` checks, stopping at the first failure: the
bytes (``pki.malformed``), the chain to the root through a staff CA
(``pki.foreign_ca``, ``pki.bad_signature``), the dates of the certificate, its
CA and the root (``pki.not_yet_valid``, ``pki.expired``), the profile and that
the subject's organisation is its CA's (``pki.wrong_kind``), then OCSP
(``pki.revoked``, ``pki.revocation_unknown``, ``pki.revocation_unavailable``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from kojin.core.errors import KojinError
from kojin.pki import reasons
from kojin.pki.certificate_rows import CertificateRows
from kojin.pki.chain import wrong_kind
from kojin.pki.crl import CrlPublisher
from kojin.pki.domain import (
    OID_CLIENT_AUTH,
    CertKind,
    as_utc,
    malformed,
    new_serial,
    new_subject_ref,
    organisation_of_staff_ca,
)
from kojin.pki.extensions import CaUrls, authority_key_id, crl_distribution, information_access, key_usage
from kojin.pki.hierarchy import CA_BACKDATE, CaHierarchy, CaMaterial
from kojin.pki.issuing import CardPublicKey, IssuedCertificate, load_public_key
from kojin.pki.ocsp_client import OcspAnswer, OcspLookup, OcspStatus
from kojin.pki.trust import key_identifier

STAFF_VALIDITY: Final = timedelta(days=3 * 365)
_ISSUE_ATTEMPTS: Final = 5
_STAFF_ID = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,39}\Z")
_SUBJECT_O: Final = "kojin staff"


def check_staff_id(staff_id: str) -> str:
    if not isinstance(staff_id, str) or not _STAFF_ID.match(staff_id):
        raise reasons.BAD_STAFF_ID.error()
    return staff_id


def staff_subject(staff_id: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _SUBJECT_O),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, staff_id),
        ]
    )


def staff_certificate(
    issuer: CaMaterial,
    key: CardPublicKey,
    serial: int,
    staff_id: str,
    organisation: str,
    validity: tuple[datetime, datetime],
    urls: CaUrls,
) -> x509.Certificate:
    """A staff card's authentication certificate, signed by the organisation's staff CA."""
    return (
        x509.CertificateBuilder()
        .subject_name(staff_subject(staff_id, organisation))
        .issuer_name(issuer.certificate.subject)
        .public_key(key)
        .serial_number(serial)
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(authority_key_id(issuer.key_identifier), critical=False)
        .add_extension(crl_distribution(urls.crl(issuer.name)), critical=False)
        .add_extension(information_access(ocsp=urls.ocsp, ca_issuers=urls.ca(issuer.name)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier(OID_CLIENT_AUTH)]), critical=False)
        .sign(issuer.signing_key, hashes.SHA256())
    )


class StaffCertificateIssuer:
    """The staff CAs' side of staff card issuance: make the organisation's CA if needed, certify, record."""

    def __init__(
        self,
        hierarchy: CaHierarchy,
        rows: CertificateRows,
        crls: CrlPublisher,
        urls: CaUrls,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self.hierarchy = hierarchy
        self.rows = rows
        self.crls = crls
        self.urls = urls
        self._now = now

    def staff_ca(self, organisation: str) -> CaMaterial:
        """The organisation's staff CA, with its first CRL, made on first use (idempotent, race-safe)."""
        now = self._now()
        material, _made = self.hierarchy.staff_ca(organisation, now)
        # Also when another process made the CA and has not published yet:
        # the CRL's primary key keeps exactly one first CRL.
        self.crls.publish_first(material.name, now)
        return material

    def issue(
        self, public_key: CertificatePublicKeyTypes | bytes, *, staff_id: str, organisation: str
    ) -> IssuedCertificate:
        check_staff_id(staff_id)
        key = load_public_key(public_key)
        issuer = self.staff_ca(organisation)
        now = self._now()
        # Backdated a little, as CA certificates are: a workstation whose clock
        # lags the CA's must not find a card just handed over "not yet valid".
        validity = (now - CA_BACKDATE, min(now + STAFF_VALIDITY, issuer.certificate.not_valid_after_utc))
        for _ in range(_ISSUE_ATTEMPTS):
            serial, subject_ref = new_serial(), new_subject_ref()
            certificate = staff_certificate(issuer, key, serial, staff_id, organisation, validity, self.urls)
            der = certificate.public_bytes(serialization.Encoding.DER)
            recorded = self.rows.add(
                serial=serial,
                ca=issuer.name,
                kind=CertKind.STAFF,
                subject_ref=subject_ref,
                juminhyo_code="",
                staff_id=staff_id,
                not_before=validity[0],
                not_after=validity[1],
                issued_at=now,
                der=der,
            )
            if recorded:
                return IssuedCertificate(serial, CertKind.STAFF, issuer.name, subject_ref, *validity, der)
        raise RuntimeError("could not draw a free serial number")


@dataclass(frozen=True)
class StaffTrust:
    """What a staff login trusts: the root and the staff CAs under it, by CA name."""

    root: x509.Certificate
    cas: Mapping[str, x509.Certificate]

    def issuer_of(self, certificate: x509.Certificate) -> tuple[str, x509.Certificate] | None:
        try:
            aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            aki = None
        for name, ca in self.cas.items():
            if ca.subject == certificate.issuer and (aki is None or aki == key_identifier(ca)):
                return name, ca
        return None


@dataclass(frozen=True)
class VerifiedStaffCertificate:
    """A staff certificate that passed every check."""

    certificate: x509.Certificate
    serial: int
    staff_id: str
    organisation: str
    ca: str
    not_after: datetime
    revocation: OcspAnswer


def verify_staff_certificate(
    cert_der: bytes, *, at: datetime, ocsp_lookup: OcspLookup, trust: StaffTrust
) -> VerifiedStaffCertificate:
    """Check a staff card's certificate; raise the precise ``pki.*`` reason."""
    try:
        return _verify(cert_der, as_utc(at), ocsp_lookup, trust)
    except KojinError:
        raise
    except Exception as exc:
        raise malformed(type(exc).__name__) from exc


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _load(cert_der: bytes) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(bytes(cert_der))
    except (ValueError, TypeError):
        raise malformed("not a DER X.509 certificate") from None
    if certificate.version is not x509.Version.v3:
        raise malformed("not an X.509 v3 certificate")
    return certificate


def _verify(cert_der: bytes, at: datetime, ocsp_lookup: OcspLookup, trust: StaffTrust) -> VerifiedStaffCertificate:
    certificate = _load(cert_der)
    found = trust.issuer_of(certificate)
    if found is None:
        raise reasons.FOREIGN_CA.error()
    ca_name, issuer = found
    if not _signed_by(certificate, issuer):
        raise reasons.BAD_SIGNATURE.error(what_ja="電子証明書", signer_en="The issuing CA", what_en="the certificate")
    if not _signed_by(issuer, trust.root):
        raise reasons.BAD_SIGNATURE.error(
            what_ja="認証局の証明書", signer_en="The root", what_en="the issuing CA", field="issuer"
        )
    for checked, field in ((certificate, "certificate"), (issuer, "issuer"), (trust.root, "root")):
        if at < checked.not_valid_before_utc:
            raise reasons.NOT_YET_VALID.error(field=field)
        if at > checked.not_valid_after_utc:
            raise reasons.EXPIRED.error(field=field)
    staff_id, organisation = _subject(certificate)
    if not _profile_matches(certificate) or organisation != organisation_of_staff_ca(ca_name):
        raise wrong_kind(CertKind.STAFF)
    answer = _revocation(certificate, issuer, ocsp_lookup)
    return VerifiedStaffCertificate(
        certificate, certificate.serial_number, staff_id, organisation, ca_name, certificate.not_valid_after_utc, answer
    )


def _subject(certificate: x509.Certificate) -> tuple[str, str]:
    def one(oid: ObjectIdentifier) -> str:
        values = certificate.subject.get_attributes_for_oid(oid)
        if len(values) != 1:
            raise wrong_kind(CertKind.STAFF)
        return str(values[0].value)

    return one(NameOID.COMMON_NAME), one(NameOID.ORGANIZATIONAL_UNIT_NAME)


def _profile_matches(certificate: x509.Certificate) -> bool:
    extensions = certificate.extensions
    known = {x509.BasicConstraints.oid, x509.KeyUsage.oid, x509.ExtendedKeyUsage.oid}
    if any(e.critical and e.oid not in known for e in extensions):
        raise malformed("unknown critical extension")
    try:
        if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
        eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return (
        usage.digital_signature
        and not usage.key_cert_sign
        and not usage.crl_sign
        and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    )


def _revocation(certificate: x509.Certificate, issuer: x509.Certificate, ocsp_lookup: OcspLookup) -> OcspAnswer:
    try:
        answer = ocsp_lookup(certificate, issuer)
    except KojinError:
        raise
    except Exception as exc:
        raise reasons.REVOCATION_UNAVAILABLE.error(detail=type(exc).__name__) from exc
    if answer.status is OcspStatus.REVOKED:
        raise reasons.REVOKED.error()
    if answer.status is not OcspStatus.GOOD:
        raise reasons.REVOCATION_UNKNOWN.error()
    return answer
