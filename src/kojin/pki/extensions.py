"""X.509 extensions the CA writes, and the URLs they point relying parties to.

Shared by the CA hierarchy (CA certificates), issuing (end-entity certificates)
and CRL publication, which otherwise have nothing in common.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

_KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


@dataclass(frozen=True)
class CaUrls:
    """Where relying parties fetch CA certificates, CRLs and OCSP answers (公開場所)."""

    base_url: str  # no trailing slash

    def ca(self, name: str) -> str:
        return f"{self.base_url}/pki/ca/{name}.cer"

    def crl(self, name: str) -> str:
        return f"{self.base_url}/pki/crl/{name}.crl"

    @property
    def ocsp(self) -> str:
        return f"{self.base_url}/pki/ocsp"


def key_usage(**bits: bool) -> x509.KeyUsage:
    unknown = set(bits) - set(_KEY_USAGE_BITS)
    if unknown:
        raise ValueError(f"unknown key usage bits {sorted(unknown)}")
    return x509.KeyUsage(**{name: bits.get(name, False) for name in _KEY_USAGE_BITS})


def authority_key_id(issuer_key_identifier: bytes) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier(issuer_key_identifier, None, None)


def crl_distribution(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def information_access(*, ca_issuers: str, ocsp: str | None = None) -> x509.AuthorityInformationAccess:
    """Authority information access: the OCSP responder (if any) first, then the issuer's certificate."""
    descriptions = []
    if ocsp is not None:
        descriptions.append(
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp))
        )
    descriptions.append(
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(ca_issuers))
    )
    return x509.AuthorityInformationAccess(descriptions)
