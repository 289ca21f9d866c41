"""Keys at rest under one passphrase (鍵のパスフレーズ): ``KOJIN_KEY_PASSPHRASE``.

The keys kojin keeps in files of its own (the card files' secret, the
exchange log's signing key) are sealed under the passphrase when it is set:
scrypt turns it into an AES-256-GCM key, and the sealed blob carries its salt
and nonce. Without a passphrase they are stored as they are, the demo default
that ``kojin up`` warns about at start.
"""

from __future__ import annotations

import os
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from kojin.core import reasons

__all__ = ["KEY_PASSPHRASE_ENV", "is_sealed", "key_passphrase", "seal", "unseal"]

KEY_PASSPHRASE_ENV: Final = "KOJIN_KEY_PASSPHRASE"
_MAGIC: Final = b"kojin-sealed-key-1\n"
_SALT: Final = 16
_NONCE: Final = 12
# scrypt at 2^15 × 8: about 32 MiB and a few tens of milliseconds, once per key per process.
_SCRYPT_N: Final = 2**15
_SCRYPT_R: Final = 8


def key_passphrase() -> bytes | None:
    """``KOJIN_KEY_PASSPHRASE`` as bytes, or None when it is unset or empty."""
    value = os.environ.get(KEY_PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def _key(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=1).derive(passphrase)


def seal(secret: bytes, passphrase: bytes) -> bytes:
    """``secret`` encrypted under ``passphrase``, with what opening it needs."""
    salt, nonce = secrets.token_bytes(_SALT), secrets.token_bytes(_NONCE)
    return _MAGIC + salt + nonce + AESGCM(_key(passphrase, salt)).encrypt(nonce, secret, _MAGIC)


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(_MAGIC)


def unseal(blob: bytes, passphrase: bytes | None, *, what: str) -> bytes:
    """The secret in a sealed ``blob``; refused without the passphrase or with another one."""
    if passphrase is None:
        raise reasons.KEY_PASSPHRASE_NEEDED.error(what=what)
    body = blob[len(_MAGIC) :]
    salt, nonce, sealed = body[:_SALT], body[_SALT : _SALT + _NONCE], body[_SALT + _NONCE :]
    try:
        return AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, _MAGIC)
    except InvalidTag:
        raise reasons.KEY_PASSPHRASE_WRONG.error(what=what) from None
