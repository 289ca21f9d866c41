"""Signed tree heads (署名付きツリーヘッド) of the exchange log.

A signed tree head commits the log, with its Ed25519 key, to "after
``tree_size`` entries the Merkle root was ``root_hash``". Inclusion and
consistency proofs are only worth something against a tree head whose
signature checks out.

Canonical signing input
-----------------------
The signature covers exactly these bytes (all integers unsigned big-endian)::

    offset  length  content
    0       13      b"kojin-sth-v1" followed by one 0x00 byte
    13      8       tree_size (uint64)
    21      8       timestamp_ms (uint64, milliseconds since the Unix epoch, UTC)
    29      32      root_hash (SHA-256 Merkle tree hash, RFC 9162)
    61      1       L = length of log_id in UTF-8 bytes (1..255)
    62      L       log_id, UTF-8

The leading context string keeps a tree-head signature from ever being valid
for another message type signed with the same key, and the version in it lets
the layout change later without ambiguity. A fixed binary layout rather than
JSON was chosen so that independent verifiers need no canonical-JSON library.

JSON form
---------
::

    {
      "tree_size": 1234,
      "timestamp_ms": 1700000000000,
      "log_id": "kojin-exchange-log",
      "root_hash": "<standard base64 with padding, 32 bytes>",
      "signature": "<standard base64 with padding, 64 bytes>"
    }

Unknown keys are rejected so that nothing unsigned can ride along looking as
if it were signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import time
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kojin.audit import reasons
from kojin.core.errors import InvalidInput

__all__ = [
    "SIGNATURE_CONTEXT",
    "SignedTreeHead",
    "key_id",
    "load_public_key",
    "public_key_to_base64",
    "public_key_to_pem",
    "sign_tree_head",
    "tree_head_signing_input",
    "verify_tree_head",
]

SIGNATURE_CONTEXT: Final = b"kojin-sth-v1\x00"
_HASH_SIZE: Final = 32
_SIGNATURE_SIZE: Final = 64
_RAW_KEY_SIZE: Final = 32
_UINT64_LIMIT: Final = 1 << 64
_MAX_LOG_ID_BYTES: Final = 255
_JSON_FIELDS: Final = frozenset({"tree_size", "timestamp_ms", "log_id", "root_hash", "signature"})


def _malformed(field: str, what_ja: str, what_en: str) -> InvalidInput:
    return reasons.TREE_HEAD_MALFORMED.error(field_name=field, what_ja=what_ja, what_en=what_en, field=field)


def _check_uint64(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _malformed(field, "整数ではありません。", "not an integer.")
    if not 0 <= value < _UINT64_LIMIT:
        raise _malformed(field, "0以上2^64未満ではありません。", "not in [0, 2^64).")
    return value


def _check_bytes(value: object, size: int, field: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise _malformed(field, f"{size}バイトではありません。", f"not {size} bytes.")
    return value


def _check_log_id(value: object) -> str:
    if not isinstance(value, str):
        raise _malformed("log_id", "文字列ではありません。", "not a string.")
    _encode_log_id(value)
    return value


def _encode_log_id(value: str) -> bytes:
    if not isinstance(value, str):
        raise _malformed("log_id", "文字列ではありません。", "not a string.")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise _malformed("log_id", "UTF-8にできません。", "not encodable as UTF-8.") from None
    if not 1 <= len(encoded) <= _MAX_LOG_ID_BYTES:
        raise _malformed("log_id", "1〜255バイトではありません。", "must be 1 to 255 UTF-8 bytes.")
    return encoded


def tree_head_signing_input(tree_size: int, root_hash: bytes, timestamp_ms: int, log_id: str) -> bytes:
    """The canonical bytes an Ed25519 tree-head signature covers (layout above)."""
    size = _check_uint64(tree_size, "tree_size")
    stamp = _check_uint64(timestamp_ms, "timestamp_ms")
    root = _check_bytes(root_hash, _HASH_SIZE, "root_hash")
    log = _encode_log_id(log_id)
    return SIGNATURE_CONTEXT + struct.pack(">QQ", size, stamp) + root + bytes([len(log)]) + log


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A tree head and the log's Ed25519 signature over its canonical bytes.

    Construction checks field types and sizes (raising ``InvalidInput`` with
    code ``tree_head.malformed``), not the signature: use
    :func:`verify_tree_head` for that.
    """

    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    log_id: str
    signature: bytes

    def __post_init__(self) -> None:
        tree_head_signing_input(self.tree_size, self.root_hash, self.timestamp_ms, self.log_id)
        _check_bytes(self.signature, _SIGNATURE_SIZE, "signature")

    def signing_input(self) -> bytes:
        """The canonical bytes the signature covers."""
        return tree_head_signing_input(self.tree_size, self.root_hash, self.timestamp_ms, self.log_id)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (binary fields in standard base64)."""
        return {
            "tree_size": self.tree_size,
            "timestamp_ms": self.timestamp_ms,
            "log_id": self.log_id,
            "root_hash": base64.b64encode(self.root_hash).decode("ascii"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    def to_json(self) -> str:
        """Compact JSON text with sorted keys."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: object) -> SignedTreeHead:
        """Parse the JSON form; raise ``InvalidInput`` naming the bad field."""
        if not isinstance(data, dict):
            raise _malformed("$", "オブジェクトではありません。", "not a JSON object.")
        for key in data:
            if key not in _JSON_FIELDS:
                raise _malformed(str(key), "未知の項目です。", "unknown field.")
        for key in sorted(_JSON_FIELDS):
            if key not in data:
                raise _malformed(key, "ありません。", "missing.")
        return cls(
            tree_size=_check_uint64(data["tree_size"], "tree_size"),
            root_hash=_decode_b64(data["root_hash"], _HASH_SIZE, "root_hash"),
            timestamp_ms=_check_uint64(data["timestamp_ms"], "timestamp_ms"),
            log_id=_check_log_id(data["log_id"]),
            signature=_decode_b64(data["signature"], _SIGNATURE_SIZE, "signature"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedTreeHead:
        """Parse JSON text; raise ``InvalidInput`` on any defect."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise _malformed("$", "JSONとして読めません。", "not valid JSON.") from None
        return cls.from_dict(data)


def _decode_b64(value: object, size: int, field: str) -> bytes:
    if not isinstance(value, str):
        raise _malformed(field, "base64文字列ではありません。", "not a base64 string.")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _malformed(field, "base64として読めません。", "not valid base64.") from None
    return _check_bytes(raw, size, field)


def sign_tree_head(
    private_key: Ed25519PrivateKey,
    tree_size: int,
    root_hash: bytes,
    log_id: str,
    timestamp_ms: int | None = None,
) -> SignedTreeHead:
    """Sign a tree head with the log's key; ``timestamp_ms`` defaults to now."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise reasons.TREE_HEAD_BAD_KEY.error()
    stamp = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    message = tree_head_signing_input(tree_size, root_hash, stamp, log_id)
    return SignedTreeHead(tree_size, root_hash, stamp, log_id, private_key.sign(message))


def verify_tree_head(public_key: Ed25519PublicKey, sth: SignedTreeHead) -> bool:
    """True iff ``sth.signature`` is the key's signature over the canonical bytes."""
    if not isinstance(public_key, Ed25519PublicKey) or not isinstance(sth, SignedTreeHead):
        return False
    try:
        public_key.verify(sth.signature, sth.signing_input())
    except (InvalidSignature, InvalidInput):
        return False
    return True


# ---------------------------------------------------------------------------
# Keys


def public_key_to_base64(public_key: Ed25519PublicKey) -> str:
    """The 32-byte raw public key in standard base64."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_to_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as a PEM SubjectPublicKeyInfo block."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw public key: a fingerprint to compare out of band."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(text: object, field: str = "public_key") -> Ed25519PublicKey:
    """Read an Ed25519 public key from PEM text or base64 of the raw 32 bytes."""
    bad = reasons.TREE_HEAD_BAD_PUBLIC_KEY.error(field=field)
    if not isinstance(text, str):
        raise bad
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(stripped.encode("ascii"))
        else:
            raw = base64.b64decode(stripped.encode("ascii"), validate=True)
            if len(raw) != _RAW_KEY_SIZE:
                raise bad
            key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise bad from None
    if not isinstance(key, Ed25519PublicKey):
        raise bad
    return key
