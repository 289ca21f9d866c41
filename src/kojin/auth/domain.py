"""One-time challenges (チャレンジ) and the signatures a card makes over them.

A challenge is ``kojin-challenge/1.<rp_id>.<expires>.<nonce>.<mac>``: the relying
party's id, an expiry in Unix seconds, 16 random bytes and an HMAC over the rest
under the authentication service's key. Issuing one writes nothing; using one
records its nonce, once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kojin.auth import reasons

PREFIX = "kojin-challenge/1"
_CHALLENGE = re.compile(
    r"^kojin-challenge/1\.([a-z0-9][a-z0-9_.-]{1,63})\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})\Z"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def _mac(key: bytes, body: str) -> str:
    # Not hmac.digest(): its one-shot HMAC releases the GIL whatever the
    # length, and with many verifying threads each release costs a round trip
    # for the GIL (~15 µs, more than the HMAC). An HMAC object fed under 2 KiB
    # keeps it; copying the keyed one also saves the key schedule.
    mac = _keyed(key).copy()
    mac.update(body.encode())
    return _b64(mac.digest())


@dataclass(frozen=True)
class Challenge:
    """A challenge as handed to the card reader."""

    value: str
    rp_id: str
    expires_at: int
    nonce: str


def make_challenge(key: bytes, rp_id: str, expires_at: int) -> Challenge:
    nonce = _b64(secrets.token_bytes(16))
    body = f"{PREFIX}.{rp_id}.{expires_at}.{nonce}"
    mac = _mac(key, body)
    return Challenge(f"{body}.{mac}", rp_id, expires_at, nonce)


def parse_challenge(key: bytes, value: str, rp_id: str, now: int) -> Challenge:
    """Check a challenge's form, MAC, audience and expiry; raise a precise reason."""
    match = _CHALLENGE.match(value) if isinstance(value, str) and len(value) < 300 else None
    if match is None:
        raise reasons.CHALLENGE_MALFORMED.error()
    owner, expires, nonce, mac = match.groups()
    body = value.rsplit(".", 1)[0]
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise reasons.CHALLENGE_FORGED.error()
    if owner != rp_id:
        raise reasons.CHALLENGE_OTHER_RP.error()
    if int(expires) < now:
        raise reasons.CHALLENGE_EXPIRED.error()
    return Challenge(value, owner, int(expires), nonce)


def check_card_signature(certificate: x509.Certificate, message: bytes, signature: bytes) -> None:
    """The card's signature over the challenge, with its certificate's key.

    RSA cards sign a SHA-256 DigestInfo with PKCS#1 v1.5, as real JPKI cards do;
    P-256 cards (a kojin extension for bulk demos) sign with ECDSA/SHA-256.
    """
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except (InvalidSignature, ValueError):
        raise reasons.BAD_SIGNATURE.error() from None
