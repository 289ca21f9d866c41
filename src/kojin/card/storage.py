"""The card file (カードファイル): an emulated card's whole state, encrypted at rest.

Layout of ``<card_id>.card``::

    offset  size  content
    0       8     magic  b"KJCARD\\x00\\x01"   (format 1)
    8       16    salt   random, fresh on every save
    24      12    nonce  random, fresh on every save
    36      n+16  AES-256-GCM ciphertext of the card state (JSON) and its tag

The key is ``HKDF-SHA256(secret, salt, info = b"kojin card file v1\\x00" + card_id)``
and the associated data is ``magic + card_id``, so a file renamed to another
card's id does not open. ``secret`` belongs to the card issuer and must be a
high-entropy key of at least 16 bytes (not a passphrase: HKDF does not stretch,
and the file is rewritten on every PIN try, where scrypt would cost each VERIFY
tens of milliseconds).

Every save writes a temporary file in the same directory, fsyncs it, renames it
over the old one and fsyncs the directory, so a crash leaves either the old or
the new state, never a mix. A card bound to its file saves itself whenever a PIN
counter moves, before it answers the VERIFY, so killing the process cannot undo
a wrong PIN. Not covered: someone with write access to the directory putting
an older copy of the file back (a real card's counter lives in the chip).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kojin.card import reasons
from kojin.card.emulator import MyNumberCard

__all__ = [
    "CARD_FILE_SUFFIX",
    "MIN_SECRET_LENGTH",
    "CardStore",
    "card_path",
    "load_card",
    "save_card",
]

CARD_FILE_SUFFIX: Final = ".card"
MIN_SECRET_LENGTH: Final = 16
_MAGIC: Final = b"KJCARD\x00\x01"
_SALT_LEN: Final = 16
_NONCE_LEN: Final = 12
_HEADER_LEN: Final = len(_MAGIC) + _SALT_LEN + _NONCE_LEN


def card_path(directory: str | os.PathLike[str], card_id: str) -> Path:
    """Where the file of card ``card_id`` lives in ``directory``."""
    return Path(directory) / f"{card_id}{CARD_FILE_SUFFIX}"


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_LENGTH:
        raise reasons.STORAGE_SECRET.error(min_secret_length=MIN_SECRET_LENGTH)


def _derive_key(secret: bytes, salt: bytes, card_id: str) -> bytes:
    info = b"kojin card file v1\x00" + card_id.encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def _seal(plaintext: bytes, secret: bytes, card_id: str) -> bytes:
    salt = secrets.token_bytes(_SALT_LEN)
    nonce = secrets.token_bytes(_NONCE_LEN)
    aad = _MAGIC + card_id.encode("ascii")
    ciphertext = AESGCM(_derive_key(secret, salt, card_id)).encrypt(nonce, plaintext, aad)
    return _MAGIC + salt + nonce + ciphertext


def _unseal(blob: bytes, secret: bytes, card_id: str) -> bytes:
    if len(blob) < _HEADER_LEN + 16 or not blob.startswith(_MAGIC):
        raise reasons.STORAGE_CORRUPT.error(detail="it is not a kojin card file")
    salt = blob[len(_MAGIC) : len(_MAGIC) + _SALT_LEN]
    nonce = blob[len(_MAGIC) + _SALT_LEN : _HEADER_LEN]
    aad = _MAGIC + card_id.encode("ascii")
    try:
        return AESGCM(_derive_key(secret, salt, card_id)).decrypt(nonce, blob[_HEADER_LEN:], aad)
    except InvalidTag as exc:
        raise reasons.STORAGE_UNREADABLE.error() from exc


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a directory to fsync it
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # Without this the rename itself may be lost on power failure.
    _fsync_directory(path.parent)


class CardStore:
    """One card's encrypted file (カードファイル); what a bound card saves itself through."""

    def __init__(self, path: str | os.PathLike[str], secret: bytes) -> None:
        _check_secret(secret)
        self._path = Path(path)
        self._secret = secret

    def __repr__(self) -> str:
        return f"CardStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    @property
    def card_id(self) -> str:
        """The id of the card this file holds: the file name without its suffix."""
        return self._path.stem

    def save(self, card: MyNumberCard) -> None:
        """Encrypt and write ``card`` atomically (see the module doc)."""
        if card.card_id != self.card_id:
            raise reasons.STORAGE_NAME_MISMATCH.error(card_id=card.card_id)
        _atomic_write(self._path, _seal(card._export_state(), self._secret, card.card_id))

    def load(self) -> MyNumberCard:
        """Decrypt the file and rebuild the card, bound to this file for later saves."""
        try:
            blob = self._path.read_bytes()
        except FileNotFoundError as exc:
            raise reasons.STORAGE_MISSING.error(path=self._path) from exc
        card = MyNumberCard._restore_state(_unseal(blob, self._secret, self.card_id))
        if card.card_id != self.card_id:
            raise reasons.STORAGE_NAME_MISMATCH.error(card_id=card.card_id)
        card.bind_persistence(self)
        return card


def save_card(card: MyNumberCard, path: str | os.PathLike[str], secret: bytes) -> None:
    """Write ``card`` to ``path`` (named ``<card_id>.card``) and keep it saved there.

    From now on the card rewrites this file by itself whenever its state changes.
    """
    store = CardStore(path, secret)
    store.save(card)
    card.bind_persistence(store)


def load_card(path: str | os.PathLike[str], secret: bytes) -> MyNumberCard:
    """Read a card back from its file; it keeps saving itself there."""
    return CardStore(path, secret).load()
