"""The exchange log's signing key (署名鍵) and its log id, kept in the log's own store.

The Ed25519 key that signs tree heads is made on the log's first start and
stored (encrypted under ``KOJIN_AUDIT_PASSPHRASE``, or else the installation's
``KOJIN_KEY_PASSPHRASE``, when one is set) in the
``log_keys`` row together with the log id it was made for, so every process
of an installation signs as the same log. Separate from the log's writing and
reading: it is read once, when the log opens.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from kojin.audit import reasons
from kojin.audit.store import log_keys
from kojin.audit.tree_head import key_id
from kojin.core.key_passphrase import key_passphrase
from kojin.core.keys import insert_if_absent

__all__ = ["DEFAULT_LOG_ID", "PASSPHRASE_ENV", "load_or_create_key"]

DEFAULT_LOG_ID: Final = "kojin-exchange-log"
PASSPHRASE_ENV: Final = "KOJIN_AUDIT_PASSPHRASE"


def load_or_create_key(engine: Engine, log_id: str | None, passphrase: bytes | None) -> tuple[Ed25519PrivateKey, str]:
    """The log's key and its stored log id, creating both on first use.

    ``passphrase`` defaults to ``KOJIN_AUDIT_PASSPHRASE``, then to
    ``KOJIN_KEY_PASSPHRASE``; ``log_id``, if given, must be the stored one.
    """
    if passphrase is None and os.environ.get(PASSPHRASE_ENV):
        passphrase = os.environ[PASSPHRASE_ENV].encode("utf-8")
    if passphrase is None:
        passphrase = key_passphrase()
    passphrase = passphrase or None
    row = _key_row(engine)
    if row is None:
        _create_key(engine, log_id or DEFAULT_LOG_ID, passphrase)
        row = _key_row(engine)
        assert row is not None
    stored_log_id, blob, encrypted = row
    if log_id is not None and log_id != stored_log_id:
        raise reasons.LOG_ID_MISMATCH.error(stored_log_id=stored_log_id, log_id=log_id)
    if encrypted and not passphrase:
        raise RuntimeError(f"the exchange-log key is encrypted: set {PASSPHRASE_ENV}")
    try:
        loaded = serialization.load_der_private_key(blob, password=passphrase if encrypted else None)
    except (ValueError, TypeError):
        raise RuntimeError(
            f"the exchange-log key cannot be read: is {PASSPHRASE_ENV} the one it was created with?"
        ) from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise RuntimeError("the exchange-log key is not an Ed25519 key")
    return loaded, stored_log_id


def _create_key(engine: Engine, log_id: str, passphrase: bytes | None) -> None:
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    blob = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, encryption)
    values = {
        "id": 1,
        "log_id": log_id,
        "key_id": key_id(key.public_key()),
        "private_key": blob,
        "encrypted": bool(passphrase),
        "created_at": datetime.now(UTC),
    }
    insert_if_absent(engine, log_keys, values)  # another process's key, if it stored one first


def _key_row(engine: Engine) -> tuple[str, bytes, bool] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(log_keys.c.log_id, log_keys.c.private_key, log_keys.c.encrypted).where(log_keys.c.id == 1)
        ).first()
    return None if row is None else (str(row[0]), bytes(row[1]), bool(row[2]))
