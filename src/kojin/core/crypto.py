"""Crypto primitives shared by parties: canonical JSON, Ed25519 signing, answer boxes.

Ed25519 signing and verification go through libsodium (PyNaCl), which
releases the GIL for the whole operation: the hub verifies a signature per
exchange, and with ``cryptography`` that ~120 µs held every other thread of
the process. Keys and signatures are plain RFC 8032 Ed25519, so keys stored
before (32-byte seeds) and signatures made by any other implementation work
unchanged.

An *answer box* (:class:`AnswerBox`) is how a provider answers a requester
through the hub without the hub being able to read or forge it: AES-256-GCM
under a key both agencies derive from their static X25519 keys (X25519, then
HKDF-SHA-256 with both public keys in sender → recipient order, so each
direction has its own key), computed once per pair and kept in memory — the
idea of NaCl's ``crypto_box_beforenm``. The request id is bound in as
associated data, so an answer cannot be replayed for another request.
"""

from __future__ import annotations

import binascii
import json
import os
import threading
from typing import Any

import nacl.bindings
import nacl.exceptions
import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kojin.core import reasons

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NO_ENC = serialization.NoEncryption()


_FLAT_TYPES = frozenset((str, int, bool, type(None)))


def _json_canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8. What gets signed.

    The bytes are ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``. A flat object of strings, integers, booleans and
    nulls — every message on the exchange path, canonicalised several times
    per exchange — is written by orjson instead, which escapes and orders
    these exactly as ``json`` does at a tenth of the cost (floats, where the
    two differ, always take the ``json`` path).
    """
    if type(value) is dict:
        for item in value.values():
            if type(item) not in _FLAT_TYPES:
                if type(item) is list:
                    return _canonical_with_lists(value)
                return _json_canonical(value)
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            # Integers beyond 64 bits, strings that are not valid Unicode,
            # keys that are not strings: json decides (and raises) as ever.
            pass
    return _json_canonical(value)


def canonical_json_built(value: dict[str, Any]) -> bytes:
    """:func:`canonical_json` of a message this code built itself from checked fields.

    Its values are strings, integers within 64 bits, booleans, nulls and
    lists of such messages — never floats, where orjson and json differ — so
    orjson writes it whole, without looking at every value first (the same
    bytes, as :func:`canonical_json` explains). Integers beyond 64 bits and
    strings that are not valid Unicode fall back to :func:`canonical_json`.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return canonical_json(value)


def _canonical_with_lists(value: dict[Any, Any]) -> bytes:
    # A message holding a list of messages (a batch): each member written on
    # its own (the fast path for flat ones) and joined, which gives the same
    # bytes as writing the whole at once, since json writes a list as its
    # members joined by commas and an object as its sorted members.
    parts: list[bytes] = []
    for key in sorted(value, key=lambda k: k if type(k) is str else ""):
        if type(key) is not str:
            return _json_canonical(value)
        item = value[key]
        if type(item) is list:
            encoded = b"[" + b",".join([canonical_json(x) for x in item]) + b"]"
        else:
            encoded = canonical_json(item)
        parts.append(_json_canonical(key) + b":" + encoded)
    return b"{" + b",".join(parts) + b"}"


def b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode()


def unb64(text: str, field: str) -> bytes:
    try:
        # binascii's strict mode checks what b64decode(validate=True) does,
        # without its regular expression over the whole text first.
        return binascii.a2b_base64(text.encode("ascii") if isinstance(text, str) else text, strict_mode=True)
    except (ValueError, TypeError):
        raise reasons.REQUEST_BAD_BASE64.error(what_ja=field, what_en=field, field=field) from None


class SigningKey:
    """An Ed25519 signing key (署名鍵), held as libsodium's expanded secret key.

    ``seed`` (32 bytes, RFC 8032's private key) is what is stored; it is the
    same bytes ``cryptography`` writes as a raw Ed25519 private key.
    """

    __slots__ = ("_secret", "public_raw", "seed")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self.public_raw, self._secret = nacl.bindings.crypto_sign_seed_keypair(bytes(seed))
        self.seed = bytes(seed)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature (libsodium runs without the GIL)."""
        return nacl.bindings.crypto_sign(message, self._secret)[:64]

    def __repr__(self) -> str:
        return f"SigningKey(public={self.public_raw.hex()[:16]}…)"


def verify_ed25519(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Check an Ed25519 signature; False for a bad one or a malformed key or signature."""
    # libsodium reads exactly 32 and 64 bytes from these pointers: check first.
    if len(public_raw) != 32 or len(signature) != 64:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_raw)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def x25519_public_raw(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(_RAW, _RAW_PUB)


def x25519_private_raw(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(_RAW, _RAW_PRIV, _NO_ENC)


ANSWER_BOX_VERSION = b"\x02"
"""First byte of an answer box. (Version 1 was an ephemeral-key sealed box.)"""

_NONCE = 12
_TAG = 16
_PAIR_CACHE_MAX = 65_536


class AnswerBox:
    """One agency's side of the answer boxes it exchanges with every other agency (回答の暗号化).

    ``seal_to(peer, …)`` encrypts to ``peer``; ``open_from(peer, …)`` opens
    what ``peer`` sealed to this agency. The key of a direction is
    ``HKDF-SHA-256(X25519(own, peer), info = label ‖ sender public ‖
    recipient public)``: both agencies compute the same one, nobody else
    can, and a box sealed A → B never opens as B → A. Keys are derived once
    per peer (one X25519, ~40 µs) and cached; a box then costs one AES-GCM
    pass with a random 96-bit nonce, ~2 µs.

    What this gives, against the ephemeral sealed box it replaces: the
    requester knows the answer was made by the provider (only the two of
    them hold the key), so the hub can neither read nor forge the content.
    What it costs: the secrecy of all answers between two agencies rests on
    *both* their private keys rather than the recipient's alone; neither
    design has forward secrecy. Random nonces are safe to 2³² boxes per
    direction of a pair, far beyond any pair's volume between key changes.
    """

    __slots__ = ("_keys", "_lock", "_private", "public_raw")

    _LABEL = b"kojin-answer-box/2|"

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private
        self.public_raw = x25519_public_raw(private)
        self._keys: dict[tuple[bytes, bool], AESGCM] = {}
        self._lock = threading.Lock()

    def _key(self, peer: bytes, sending: bool) -> AESGCM:
        key = self._keys.get((peer, sending))
        if key is None:
            try:
                shared = self._private.exchange(X25519PublicKey.from_public_bytes(peer))
            except ValueError:
                raise reasons.CRYPTO_BAD_BOX_KEY.error() from None
            sender, recipient = (self.public_raw, peer) if sending else (peer, self.public_raw)
            raw = HKDF(hashes.SHA256(), 32, salt=None, info=self._LABEL + sender + recipient).derive(shared)
            key = AESGCM(raw)
            with self._lock:
                if len(self._keys) >= _PAIR_CACHE_MAX:
                    self._keys.clear()
                self._keys[(peer, sending)] = key
        return key

    def seal_to(self, peer_public: bytes, plaintext: bytes, associated: bytes) -> bytes:
        """Encrypt ``plaintext`` for ``peer_public``, bound to ``associated`` (the request id)."""
        nonce = os.urandom(_NONCE)
        box = self._key(peer_public, True).encrypt(nonce, plaintext, ANSWER_BOX_VERSION + associated)
        return ANSWER_BOX_VERSION + nonce + box

    def open_from(self, peer_public: bytes, sealed: bytes, associated: bytes) -> bytes:
        """Open what ``peer_public`` sealed to this agency for ``associated``."""
        if len(sealed) < 1 + _NONCE + _TAG or sealed[:1] != ANSWER_BOX_VERSION:
            raise reasons.CRYPTO_SEALED_MALFORMED.error()
        try:
            return self._key(peer_public, False).decrypt(
                sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], ANSWER_BOX_VERSION + associated
            )
        except InvalidTag:
            raise reasons.CRYPTO_SEALED_TAMPERED.error() from None
