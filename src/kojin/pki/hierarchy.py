"""The CA hierarchy (認証局の階層): one root over two issuing CAs, their keys and certificates.

One issuing CA per certificate kind, as in JPKI. CA keys are used only through
a :class:`~kojin.pki.keys.KeyBackend`; the ``algorithm`` (RSA-2048 by default,
P-256 for fast demos) applies when the CAs are first created — an existing CA
keeps the key it has. CA key rollover is not implemented. Kept apart from
issuing and revocation because every other part only reads a CA from here.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.pki.domain import (
    CA_NAMES,
    ROOT_CA,
    Algorithm,
    CertKind,
    new_serial,
    organisation_of_staff_ca,
    staff_ca_name,
)
from kojin.pki.errors import unknown_ca
from kojin.pki.extensions import CaUrls, authority_key_id, crl_distribution, information_access, key_usage
from kojin.pki.keys import EncryptedFileKeyBackend, KeyBackend, signing_key
from kojin.pki.store import cas
from kojin.pki.trust import TrustStore

ROOT_VALIDITY: Final = timedelta(days=20 * 365 + 5)
ISSUING_VALIDITY: Final = timedelta(days=12 * 365 + 3)
# Backdating a CA certificate a little keeps clients with slow clocks working.
CA_BACKDATE: Final = timedelta(hours=1)

_ORGANIZATION: Final = "kojin JPKI"
_CA_SUBJECTS: Final = {
    ROOT_CA: ("kojin JPKI Root CA", None),
    "sign": ("kojin JPKI Signature CA", "kojin JPKI for digital signature"),
    "auth": ("kojin JPKI User Authentication CA", "kojin JPKI for user authentication"),
}


@dataclass(frozen=True)
class CaMaterial:
    """One CA ready to sign (認証局): its certificate and a key that signs via the backend."""

    name: str
    certificate: x509.Certificate
    signing_key: CertificateIssuerPrivateKeyTypes

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_identifier(self) -> bytes:
        ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return ski.value.digest


def _ca_name(name: str) -> x509.Name:
    organisation = organisation_of_staff_ca(name)
    unit: str | None
    if organisation is not None:
        common_name, unit = f"kojin Staff Authentication CA {organisation}", "kojin staff authentication"
    else:
        common_name, unit = _CA_SUBJECTS[name]
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


class CaHierarchy:
    """The root and issuing CAs: created once, then loaded once per process."""

    def __init__(self, engine: Engine, urls: CaUrls, algorithm: Algorithm, key_backend: KeyBackend | None) -> None:
        self.engine = engine
        self.urls = urls
        self.algorithm = algorithm
        self._key_backend = key_backend
        self._materials: dict[str, CaMaterial] = {}
        self._lock = threading.Lock()

    @property
    def key_backend(self) -> KeyBackend:
        # Built on first use: the default reads its passphrase from the store,
        # which may not be migrated yet when the CA object is constructed.
        with self._lock:
            if self._key_backend is None:
                self._key_backend = EncryptedFileKeyBackend.in_store(self.engine)
            return self._key_backend

    def create_missing(self, now: datetime) -> None:
        """Create the root, then the issuing CAs, each only if it does not exist yet."""
        with self.engine.connect() as conn:
            present = set(conn.execute(select(cas.c.name)).scalars())
        if ROOT_CA not in present:
            self._create_ca(ROOT_CA, now)
        for name in CA_NAMES[1:]:
            if name not in present:
                self._create_ca(name, now)

    def staff_ca(self, organisation: str, now: datetime) -> tuple[CaMaterial, bool]:
        """The organisation's staff CA, made under the root on first use; whether this call made it.

        Race-safe: two processes making it at once both insert, the primary
        key keeps the first, and both then load that one.
        """
        name = staff_ca_name(organisation)
        with self.engine.connect() as conn:
            present = conn.execute(select(cas.c.name).where(cas.c.name == name)).first() is not None
        if not present:
            self._create_ca(name, now)
        return self.ca(name), not present

    def staff_ca_names(self) -> list[str]:
        """Every staff CA made so far."""
        with self.engine.connect() as conn:
            names = conn.execute(select(cas.c.name).where(cas.c.name.like("staff-%"))).scalars()
            return sorted(n for n in names if organisation_of_staff_ca(n) is not None)

    def _create_ca(self, name: str, now: datetime) -> None:
        key_id = f"{name}-{secrets.token_hex(8)}"
        public = self.key_backend.generate(key_id, self.algorithm)
        certificate = self._ca_certificate(name, key_id, public, now)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(cas).values(
                        name=name,
                        algorithm=self.algorithm,
                        key_id=key_id,
                        certificate=certificate.public_bytes(serialization.Encoding.DER),
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # another process created this CA first; its key is the one in use

    def _ca_certificate(
        self, name: str, key_id: str, public: CertificatePublicKeyTypes, now: datetime
    ) -> x509.Certificate:
        subject = _ca_name(name)
        ski = x509.SubjectKeyIdentifier.from_public_key(public)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(public)
            .serial_number(new_serial())
            .not_valid_before(now - CA_BACKDATE)
            .add_extension(ski, critical=False)
        )
        if name == ROOT_CA:
            return self._self_signed(builder, subject, ski, now).sign(
                signing_key(self.key_backend, key_id), hashes.SHA256()
            )
        root = self.ca(ROOT_CA)
        return self._under_root(builder, root, now).sign(root.signing_key, hashes.SHA256())

    @staticmethod
    def _self_signed(
        builder: x509.CertificateBuilder, subject: x509.Name, ski: x509.SubjectKeyIdentifier, now: datetime
    ) -> x509.CertificateBuilder:
        return (
            builder.issuer_name(subject)
            .not_valid_after(now + ROOT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                critical=False,
            )
        )

    def _under_root(self, builder: x509.CertificateBuilder, root: CaMaterial, now: datetime) -> x509.CertificateBuilder:
        return (
            builder.issuer_name(root.certificate.subject)
            .not_valid_after(min(now + ISSUING_VALIDITY, root.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            # digitalSignature because the issuing CA signs its own OCSP answers.
            .add_extension(
                key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
                critical=True,
            )
            .add_extension(authority_key_id(root.key_identifier), critical=False)
            .add_extension(crl_distribution(self.urls.crl(ROOT_CA)), critical=False)
            .add_extension(information_access(ca_issuers=self.urls.ca(ROOT_CA)), critical=False)
        )

    def ca(self, name: str) -> CaMaterial:
        """A CA by name (``root``, ``sign``, ``auth``, ``staff-…``), loaded once per process."""
        staff = organisation_of_staff_ca(name) is not None
        if name not in CA_NAMES and not staff:
            raise unknown_ca(name)
        with self._lock:
            cached = self._materials.get(name)
        if cached is not None:
            return cached
        with self.engine.connect() as conn:
            row = conn.execute(select(cas).where(cas.c.name == name)).mappings().first()
        if row is None:
            if staff:  # made on first use; not made yet
                raise unknown_ca(name)
            raise RuntimeError(f"CA {name!r} missing: run `kojin init` (bootstrap the CA)")
        material = CaMaterial(
            name=name,
            certificate=x509.load_der_x509_certificate(bytes(row["certificate"])),
            signing_key=signing_key(self.key_backend, row["key_id"]),
        )
        with self._lock:
            self._materials[name] = material
        return material

    def trust_store(self) -> TrustStore:
        """The CA certificates as a relying party would hold them."""
        return TrustStore(
            root=self.ca(ROOT_CA).certificate,
            sign_ca=self.ca(CertKind.SIGN.ca_name).certificate,
            auth_ca=self.ca(CertKind.AUTH.ca_name).certificate,
        )
