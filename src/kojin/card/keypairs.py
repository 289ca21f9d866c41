"""The card's key pairs (鍵ペア): generated on the card, used only to sign a digest.

COMPUTE DIGITAL SIGNATURE takes what the JPKI AP takes: an RSA-2048 key only
the 51-byte SHA-256 DigestInfo, answered by the 256-byte PKCS#1 v1.5
signature. **kojin extension:** a P-256 key takes the 32-byte hash or the same
DigestInfo, and answers a DER ``ECDSA-Sig-Value``. No function here returns a
private key.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from kojin.card.apdu import SHA256_DIGEST_INFO_PREFIX

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyKind(StrEnum):
    """Which JPKI key pair (鍵ペア) is meant."""

    AUTH = "auth"
    """利用者証明用: login to the portal, clinics, kiosks."""
    SIGNATURE = "signature"
    """署名用: signing documents (e-Tax …)."""


class KeyAlgorithm(StrEnum):
    """The key type generated on the card (鍵の種類)."""

    RSA2048 = "rsa2048"
    """As on real cards: sha256WithRSAEncryption, 256-byte signatures."""
    P256 = "p256"
    """kojin extension for fast bulk demos: ECDSA over P-256 with SHA-256."""


def generate(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm is KeyAlgorithm.RSA2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def public_der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_digest(key: PrivateKey, data: bytes) -> bytes | None:
    """The signature over a DigestInfo (or, for P-256, a bare hash); None if ``data`` is neither."""
    has_prefix = len(data) == 51 and data.startswith(SHA256_DIGEST_INFO_PREFIX)
    if isinstance(key, rsa.RSAPrivateKey):
        if not has_prefix:
            return None
        return key.sign(data[19:], padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    if not has_prefix and len(data) != 32:
        return None
    digest = data[19:] if has_prefix else data
    return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
