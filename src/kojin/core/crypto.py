"""Crypto primitives shared by parties: canonical JSON, Ed25519 signing, sealed boxes.

A sealed box is how a provider answers a requester through the hub without the
hub being able to read it: X25519 with a fresh ephemeral key, HKDF-SHA-256 to an
AES-256-GCM key, and the request id bound in as associated data so an answer
cannot be replayed for another request.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kojin.core.errors import InvalidInput, NotPermitted

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NO_ENC = serialization.NoEncryption()


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8. What gets signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise InvalidInput(
            "request.bad_base64", f"{field} が base64 ではありません。", f"{field} is not base64.", field=field
        ) from None


def ed25519_public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(_RAW, _RAW_PUB)


def ed25519_private_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(_RAW, _RAW_PRIV, _NO_ENC)


def verify_ed25519(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def x25519_public_raw(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(_RAW, _RAW_PUB)


def x25519_private_raw(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(_RAW, _RAW_PRIV, _NO_ENC)


def _box_key(shared: bytes, ephemeral_pub: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral_pub + recipient_pub, info=b"kojin-sealed-box-v1").derive(shared)


def seal(recipient_public_raw: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """Encrypt to a recipient's X25519 key; only that recipient can open it."""
    ephemeral = X25519PrivateKey.generate()
    eph_pub = x25519_public_raw(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public_raw))
    nonce = os.urandom(12)
    box = AESGCM(_box_key(shared, eph_pub, recipient_public_raw)).encrypt(nonce, plaintext, associated)
    return eph_pub + nonce + box


def open_sealed(recipient: X25519PrivateKey, sealed: bytes, associated: bytes) -> bytes:
    if len(sealed) < 32 + 12 + 16:
        raise NotPermitted("crypto.sealed_malformed", "暗号文が不正です。", "The sealed answer is malformed.")
    eph_pub, nonce, box = sealed[:32], sealed[32:44], sealed[44:]
    shared = recipient.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    try:
        return AESGCM(_box_key(shared, eph_pub, x25519_public_raw(recipient))).decrypt(nonce, box, associated)
    except InvalidTag:
        raise NotPermitted(
            "crypto.sealed_tampered",
            "暗号文を復号できません（改ざんまたは宛先違い）。",
            "The sealed answer does not open (tampered or not for this recipient).",
        ) from None
