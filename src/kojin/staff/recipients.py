"""Recipients of bulk exports (出力先): named holders of an X.509 certificate with an RSA key.

An export file is encrypted to its recipient's certificate (CMS EnvelopedData),
so only the holder of the private key — another agency's export officer, say —
can read it. A supervisor or system administrator registers a recipient once;
a bulk request then names it. The certificate is checked when registered and
again when a file is encrypted to it (it may have expired meanwhile).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.core.db import stored_utc
from kojin.staff import reasons
from kojin.staff.domain import MIN_RSA_BITS, Organisation, Recipient, StaffPrincipal, validate_recipient_name
from kojin.staff.store import recipients

MAX_PEM = 20_000


def load_certificate(pem: object) -> x509.Certificate:
    """The one certificate of a PEM text (``staff.invalid_certificate``)."""
    if not isinstance(pem, str) or not pem.strip() or len(pem) > MAX_PEM:
        raise reasons.RECIPIENT_CERTIFICATE_INVALID.error()
    try:
        found = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise reasons.RECIPIENT_CERTIFICATE_INVALID.error() from None
    if len(found) != 1:
        raise reasons.RECIPIENT_CERTIFICATE_INVALID.error()
    return found[0]


def check_certificate(certificate: x509.Certificate, at: datetime) -> None:
    """An RSA key of at least MIN_RSA_BITS, and valid at ``at``."""
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise reasons.RECIPIENT_CERTIFICATE_KEY.error(key=type(key).__name__.removeprefix("_"))
    if key.key_size < MIN_RSA_BITS:
        raise reasons.RECIPIENT_CERTIFICATE_KEY.error(key=f"RSA {key.key_size}")
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if not not_before <= at <= not_after:
        raise reasons.RECIPIENT_CERTIFICATE_EXPIRED.error(
            not_before=not_before.isoformat(), not_after=not_after.isoformat()
        )


def _recipient(row: Row[Any]) -> Recipient:
    certificate = x509.load_pem_x509_certificate(row.certificate_pem.encode("ascii"))
    return Recipient(
        row.name,
        row.certificate_pem,
        certificate.subject.rfc4514_string(),
        row.fingerprint,
        certificate.not_valid_after_utc,
        row.registered_by,
        Organisation.parse(row.org),
        stored_utc(row.registered_at),
    )


class Recipients:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, principal: StaffPrincipal, name: str, certificate_pem: str, at: datetime) -> Recipient:
        """Register ``name`` with its certificate (checked); ``staff.recipient_exists`` if taken."""
        name = validate_recipient_name(name)
        certificate = load_certificate(certificate_pem)
        check_certificate(certificate, at)
        der = certificate.public_bytes(Encoding.DER)
        values = {
            "name": name,
            # Stored as parsed and re-encoded: one certificate, nothing around it.
            "certificate_pem": certificate.public_bytes(Encoding.PEM).decode("ascii"),
            "fingerprint": hashlib.sha256(der).hexdigest(),
            "registered_by": principal.staff_id,
            "org": str(principal.organisation),
            "registered_at": at,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(recipients).values(**values))
        except IntegrityError:
            raise reasons.RECIPIENT_EXISTS.error(name=name) from None
        return self.get(name)

    def find(self, name: str) -> Recipient | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(recipients).where(recipients.c.name == name)).first()
        return None if row is None else _recipient(row)

    def get(self, name: str) -> Recipient:
        found = self.find(name)
        if found is None:
            raise reasons.UNKNOWN_RECIPIENT.error(name=name)
        return found

    def certificate(self, name: str, at: datetime) -> x509.Certificate:
        """The recipient's certificate, still valid at ``at``: what a file is encrypted to."""
        certificate = load_certificate(self.get(name).certificate_pem)
        check_certificate(certificate, at)
        return certificate
