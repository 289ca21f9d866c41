"""Issuing end-entity certificates (電子証明書の発行) for public keys made on a card.

The CA never sees a card's private key: it certifies the public key it is
given, after the profile's rules (who may hold which kind, for how long). An
end-entity certificate never outlives its issuing CA: its notAfter is cut to
the CA's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID, ObjectIdentifier

from kojin.numbering.domain import validate_juminhyo_code
from kojin.pki import reasons
from kojin.pki.certificate_rows import CertificateRows
from kojin.pki.domain import (
    PROFILES,
    BasicFourItems,
    CertKind,
    basic_items_to_other_names,
    check_may_hold,
    new_serial,
    new_subject_ref,
    validate_basic_items,
    validity_window,
)
from kojin.pki.extensions import CaUrls, authority_key_id, crl_distribution, information_access, key_usage
from kojin.pki.hierarchy import CaHierarchy, CaMaterial

_ISSUE_ATTEMPTS: Final = 5

CardPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class IssuedCertificate:
    """A newly issued end-entity certificate (発行した電子証明書)."""

    serial: int
    kind: CertKind
    ca: str
    subject_ref: str
    not_before: datetime
    not_after: datetime
    der: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def load_public_key(value: CertificatePublicKeyTypes | bytes) -> CardPublicKey:
    """A card's public key: an object, or DER/PEM SubjectPublicKeyInfo bytes.

    Accepted: RSA 2048–4096 bits (what the card makes) and EC P-256 / P-384.
    """
    key: object = value
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            key = (
                serialization.load_pem_public_key(raw)
                if raw.lstrip().startswith(b"-----BEGIN")
                else serialization.load_der_public_key(raw)
            )
        except (ValueError, TypeError):
            key = None
    if isinstance(key, rsa.RSAPublicKey) and 2048 <= key.key_size <= 4096:
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
        return key
    raise reasons.BAD_PUBLIC_KEY.error()


def end_entity_certificate(
    kind: CertKind,
    issuer: CaMaterial,
    key: CardPublicKey,
    serial: int,
    subject_ref: str,
    validity: tuple[datetime, datetime],
    items: BasicFourItems | None,
    urls: CaUrls,
) -> x509.Certificate:
    """A card's certificate of ``kind`` after its profile, signed by ``issuer``."""
    profile = PROFILES[kind]
    builder = (
        x509.CertificateBuilder()
        # The subject names no one: an opaque reference, as on the real card.
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                    x509.NameAttribute(NameOID.COMMON_NAME, subject_ref),
                ]
            )
        )
        .issuer_name(issuer.certificate.subject)
        .public_key(key)
        .serial_number(serial)
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(**dict.fromkeys(profile.key_usage, True)), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(authority_key_id(issuer.key_identifier), critical=False)
        .add_extension(crl_distribution(urls.crl(issuer.name)), critical=False)
        .add_extension(information_access(ocsp=urls.ocsp, ca_issuers=urls.ca(issuer.name)), critical=False)
    )
    if profile.extended_key_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in profile.extended_key_usage]),
            critical=False,
        )
    if items is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.OtherName(ObjectIdentifier(oid), value) for oid, value in basic_items_to_other_names(items)]
            ),
            critical=False,
        )
    return builder.sign(issuer.signing_key, hashes.SHA256())


class CertificateIssuer:
    """The issuing CAs' side of card issuance: check, certify, record."""

    def __init__(
        self,
        hierarchy: CaHierarchy,
        rows: CertificateRows,
        urls: CaUrls,
        *,
        now: Callable[[], datetime],
        today: Callable[[], date],
    ) -> None:
        self.hierarchy = hierarchy
        self.rows = rows
        self.urls = urls
        self._now = now
        self._today = today

    def issue_auth_certificate(
        self,
        public_key: CertificatePublicKeyTypes | bytes,
        *,
        juminhyo_code: str,
        birth_date: date,
        today: date | None = None,
    ) -> IssuedCertificate:
        """利用者証明用電子証明書: no personal data; the birth date sets its validity only."""
        return self._issue(
            CertKind.AUTH,
            public_key,
            juminhyo_code=juminhyo_code,
            birth_date=birth_date,
            today=today,
            items=None,
        )

    def issue_signature_certificate(
        self,
        public_key: CertificatePublicKeyTypes | bytes,
        *,
        juminhyo_code: str,
        name: str,
        address: str,
        birth_date: date,
        sex: str,
        today: date | None = None,
    ) -> IssuedCertificate:
        """署名用電子証明書 with the four basic items; refused under 15."""
        items = validate_basic_items(BasicFourItems(name=name, address=address, birth_date=birth_date, sex=str(sex)))
        return self._issue(
            CertKind.SIGN,
            public_key,
            juminhyo_code=juminhyo_code,
            birth_date=birth_date,
            today=today,
            items=items,
        )

    def _issue(
        self,
        kind: CertKind,
        public_key: CertificatePublicKeyTypes | bytes,
        *,
        juminhyo_code: str,
        birth_date: date,
        today: date | None,
        items: BasicFourItems | None,
    ) -> IssuedCertificate:
        validate_juminhyo_code(juminhyo_code)
        issued_on = today or self._today()
        check_may_hold(kind, birth_date, issued_on)
        key = load_public_key(public_key)
        not_before, not_after = validity_window(birth_date, issued_on)
        issuer = self.hierarchy.ca(kind.ca_name)
        not_after = min(not_after, issuer.certificate.not_valid_after_utc)
        validity = (not_before.astimezone(UTC), not_after.astimezone(UTC))
        for _ in range(_ISSUE_ATTEMPTS):
            serial, subject_ref = new_serial(), new_subject_ref()
            certificate = end_entity_certificate(kind, issuer, key, serial, subject_ref, validity, items, self.urls)
            der = certificate.public_bytes(serialization.Encoding.DER)
            recorded = self.rows.add(
                serial=serial,
                ca=issuer.name,
                kind=kind,
                subject_ref=subject_ref,
                juminhyo_code=juminhyo_code,
                not_before=validity[0],
                not_after=validity[1],
                issued_at=self._now(),
                der=der,
            )
            if not recorded:
                continue  # serial or subject_ref taken: draw again
            return IssuedCertificate(
                serial=serial,
                kind=kind,
                ca=issuer.name,
                subject_ref=subject_ref,
                not_before=validity[0],
                not_after=validity[1],
                der=der,
            )
        raise RuntimeError("could not draw a free serial number")
