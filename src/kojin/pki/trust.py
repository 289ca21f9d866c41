"""A relying party's trust anchors (信頼点): our root CA and the two issuing CAs under it.

What a relying party holds instead of the CA's store. Apart from the checks in
:mod:`kojin.pki.verify` because the CA hands one out too
(:meth:`~kojin.pki.service.CertificateAuthority.trust_store`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cryptography import x509

from kojin.pki.domain import RESIDENT_KINDS, CertKind


def key_identifier(certificate: x509.Certificate) -> bytes:
    """The certificate's subject key identifier, computed from its key when absent."""
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
        for kind in RESIDENT_KINDS:
            ca = self.issuing_ca(kind)
            if ca.subject != certificate.issuer:
                continue
            if aki is not None and aki != key_identifier(ca):
                continue
            return kind, ca
        return None
