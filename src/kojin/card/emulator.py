"""The emulated My Number card (個人番号カード), answering real APDUs.

Two applications, laid out as on the real card (FACTS.md §3):

JPKI application (公的個人認証AP), AID ``D3 92 F0 00 26 01 00 00 00 01``

====  ===========================================  ==========================
EF    content                                      access
====  ===========================================  ==========================
000A  利用者証明用電子証明書 (DER)                  READ BINARY, always
000B  its CA certificate (DER)                     READ BINARY, always
0017  利用者証明用 private key                       COMPUTE DIGITAL SIGNATURE
                                                   after 0018 is verified
0018  利用者証明用暗証番号: 4 digits, 3 tries        VERIFY
0001  署名用電子証明書 (DER)                         READ BINARY after 001B
0002  its CA certificate (DER)                     READ BINARY, always
001A  署名用 private key                            COMPUTE DIGITAL SIGNATURE
                                                   after 001B is verified
001B  署名用パスワード: 6–16 of A–Z 0–9, 5 tries     VERIFY
0006  token ``JPKIAPICCTOKEN2``                    READ BINARY, always
====  ===========================================  ==========================

券面事項入力補助AP, AID ``D3 92 10 00 31 00 01 01 04 08``

====  ===========================================  ==========================
EF    content                                      access
====  ===========================================  ==========================
0011  券面事項入力補助用暗証番号: 4 digits, 3 tries   VERIFY
0001  ``FF 10 0C`` + the 12 ASCII digits            READ BINARY after 0011
0002  the four basic items (基本4情報), see below    READ BINARY after 0011
====  ===========================================  ==========================

EF 0002 of the 券面事項入力補助AP is one BER-TLV object, as real cards hold it::

    FF 20 L                         constructed wrapper (the header)
      DF 21 08 o1 o2 o3 o4          four big-endian 16-bit offsets, from the start
                                    of the EF, of the DF22, DF23, DF24, DF25 objects
      DF 22 L name                  UTF-8, exactly as given (IVS selectors kept)
      DF 23 L address               UTF-8
      DF 24 08 YYYYMMDD             birth date, ASCII
      DF 25 01 sex                  '1' male, '2' female (ASCII)

The meaning of the DF21 offsets on the real card is not confirmed; readers
(including :class:`kojin.card.reader.CardReader`) find the items by tag.

Protocol behaviour, where ISO 7816-4 leaves a choice:

- SELECT takes only P2 = ``0C`` (no FCI returned); SELECT of any application,
  even the current one, starts a new security session, as does ``connect()`` or
  ``disconnect()`` (card removal). A SELECT that fails leaves the selection as it was.
- An EF that has not been personalised does not exist: SELECT answers ``6A 82``.
- READ BINARY answers up to Ne bytes from the offset with ``90 00``, fewer when
  the file ends first; an offset at or past the end answers ``6B 00``. A key or
  PIN EF is not readable (``69 81``).
- VERIFY with no data answers ``63 Cx`` (tries left) without counting, or
  ``69 83`` once locked, even right after a successful VERIFY. A wrong PIN
  answers ``63 Cx``; the last wrong try answers ``63 C0`` and every VERIFY after
  it ``69 83``. The counter is decremented and saved *before* the comparison
  and restored after a match, so killing the process mid-command never gives a
  try back; if the save fails the card answers ``65 81`` without comparing.
- COMPUTE DIGITAL SIGNATURE needs the key's own PIN verified in this session
  (``69 82``). An RSA-2048 key takes only the 51-byte SHA-256 DigestInfo
  (``6A 80`` otherwise) and answers the 256-byte PKCS#1 v1.5 signature.
  **kojin extension:** a P-256 key takes the 32-byte hash or the same
  DigestInfo, and answers a DER ``ECDSA-Sig-Value``.
- Status words: ``90 00``; ``65 81`` save failed; ``67 00`` wrong length or
  malformed APDU; ``69 81`` command does not fit the current EF; ``69 82``
  security status; ``69 83`` locked; ``69 86`` no current EF; ``6A 80`` bad
  data; ``6A 82`` not found; ``6A 86`` bad P1/P2; ``6B 00`` offset; ``6D 00``
  INS; ``6E 00`` CLA; ``6F 00`` internal error (never expected). ``transmit``
  never raises.

Personalisation (発行) is not done by APDU here. The issuer-side methods
(:meth:`MyNumberCard.generate_key_pair`, :meth:`~MyNumberCard.write_certificate`,
:meth:`~MyNumberCard.write_card_info`, :meth:`~MyNumberCard.set_pin`,
:meth:`~MyNumberCard.reset_pin`) stand for the issuer's secure personalisation
channel and the municipal counter. Key pairs are generated on the card and only
public keys come out; no method returns a private key.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from kojin.card.apdu import (
    CARD_INFO_AID,
    CARD_INFO_EF_BASIC_ITEMS,
    CARD_INFO_EF_NUMBER,
    CARD_INFO_EF_PIN,
    CARD_INFO_PIN_TRIES,
    JPKI_AID,
    JPKI_AUTH_PIN_TRIES,
    JPKI_EF_AUTH_CA_CERT,
    JPKI_EF_AUTH_CERT,
    JPKI_EF_AUTH_KEY,
    JPKI_EF_AUTH_PIN,
    JPKI_EF_SIGN_CA_CERT,
    JPKI_EF_SIGN_CERT,
    JPKI_EF_SIGN_KEY,
    JPKI_EF_SIGN_PIN,
    JPKI_EF_TOKEN,
    JPKI_SIGN_PIN_TRIES,
    JPKI_TOKEN,
    SHA256_DIGEST_INFO_PREFIX,
    SW,
    TAG_BASIC_ADDRESS,
    TAG_BASIC_BIRTH_DATE,
    TAG_BASIC_ITEMS,
    TAG_BASIC_NAME,
    TAG_BASIC_OFFSETS,
    TAG_BASIC_SEX,
    TAG_INDIVIDUAL_NUMBER,
    APDUFormatError,
    CommandAPDU,
    ResponseAPDU,
    sw_tries_left,
    tlv_encode,
)
from kojin.card.errors import CardStorageError, PinKind, validate_pin
from kojin.core.errors import Conflict, InvalidInput
from kojin.core.japan import parse_yyyymmdd, yyyymmdd
from kojin.numbering.domain import validate_individual_number

__all__ = [
    "CardPersistence",
    "KeyAlgorithm",
    "KeyKind",
    "MyNumberCard",
    "PinKind",
    "PublicKey",
    "build_basic_items_file",
]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_CARD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STATE_FORMAT = 1
_MAX_EF_SIZE = 0x7FFF  # READ BINARY addresses 15 bits


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


class CardPersistence(Protocol):
    """Where a card saves itself whenever its state changes (カード状態の保存先)."""

    def save(self, card: MyNumberCard) -> None: ...


# --- static layout -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PinSlot:
    aid: bytes
    fid: int
    max_tries: int


@dataclass(frozen=True, slots=True)
class _KeySlot:
    key_fid: int
    cert_fid: int
    ca_fid: int
    pin: PinKind


_PIN_SLOTS: dict[PinKind, _PinSlot] = {
    PinKind.AUTH: _PinSlot(JPKI_AID, JPKI_EF_AUTH_PIN, JPKI_AUTH_PIN_TRIES),
    PinKind.SIGNATURE: _PinSlot(JPKI_AID, JPKI_EF_SIGN_PIN, JPKI_SIGN_PIN_TRIES),
    PinKind.CARD_INFO: _PinSlot(CARD_INFO_AID, CARD_INFO_EF_PIN, CARD_INFO_PIN_TRIES),
}
_KEY_SLOTS: dict[KeyKind, _KeySlot] = {
    KeyKind.AUTH: _KeySlot(JPKI_EF_AUTH_KEY, JPKI_EF_AUTH_CERT, JPKI_EF_AUTH_CA_CERT, PinKind.AUTH),
    KeyKind.SIGNATURE: _KeySlot(JPKI_EF_SIGN_KEY, JPKI_EF_SIGN_CERT, JPKI_EF_SIGN_CA_CERT, PinKind.SIGNATURE),
}
_PIN_AT: dict[tuple[bytes, int], _PinSlot] = {(s.aid, s.fid): s for s in _PIN_SLOTS.values()}
_KEY_AT: dict[int, _KeySlot] = {s.key_fid: s for s in _KEY_SLOTS.values()}
# Which PIN EF guards READ BINARY of each transparent EF (None: free to read).
_READ_RULES: dict[bytes, dict[int, int | None]] = {
    JPKI_AID: {
        JPKI_EF_AUTH_CERT: None,
        JPKI_EF_AUTH_CA_CERT: None,
        JPKI_EF_SIGN_CERT: JPKI_EF_SIGN_PIN,
        JPKI_EF_SIGN_CA_CERT: None,
        JPKI_EF_TOKEN: None,
    },
    CARD_INFO_AID: {
        CARD_INFO_EF_NUMBER: CARD_INFO_EF_PIN,
        CARD_INFO_EF_BASIC_ITEMS: CARD_INFO_EF_PIN,
    },
}


# --- elementary files ----------------------------------------------------------


@dataclass(slots=True)
class _BinaryEF:
    data: bytes
    read_pin: int | None


@dataclass(slots=True)
class _KeyEF:
    key: _PrivateKey
    algorithm: KeyAlgorithm
    pin_fid: int


@dataclass(slots=True)
class _PinEF:
    secret: bytes
    max_tries: int
    tries_left: int


_EF = _BinaryEF | _KeyEF | _PinEF


def _response(sw: int, data: bytes = b"") -> ResponseAPDU:
    return ResponseAPDU(data, sw)


def _public_der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _generate(algorithm: KeyAlgorithm) -> _PrivateKey:
    if algorithm is KeyAlgorithm.RSA2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _check_text(value: str, field: str, ja: str, en: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"card.{field}_empty", f"{ja}が空です。", f"The {en} is empty.", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput(
            f"card.{field}_control",
            f"{ja}に制御文字が含まれています。",
            f"The {en} contains control characters.",
            field=field,
        )
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"card.{field}_encoding", f"{ja}をUTF-8で表せません。", f"The {en} cannot be encoded as UTF-8.", field=field
        ) from exc


def _birth_date_text(birth_date: date | str) -> bytes:
    text = yyyymmdd(birth_date) if isinstance(birth_date, date) else birth_date
    try:
        parse_yyyymmdd(text)
    except ValueError as exc:
        raise InvalidInput(
            "card.birth_date",
            "生年月日はYYYYMMDDの実在する日付です。",
            "The birth date must be a real date as YYYYMMDD.",
            field="birth_date",
        ) from exc
    return text.encode("ascii")


def build_basic_items_file(name: str, address: str, birth_date: date | str, sex: str) -> bytes:
    """The content of EF 0002 of the 券面事項入力補助AP (基本4情報), layout in the module doc."""
    if sex not in ("1", "2"):
        raise InvalidInput(
            "card.sex", "性別は'1'（男）か'2'（女）です。", "Sex is '1' (male) or '2' (female).", field="sex"
        )
    items = [
        tlv_encode(TAG_BASIC_NAME, _check_text(name, "name", "氏名", "name")),
        tlv_encode(TAG_BASIC_ADDRESS, _check_text(address, "address", "住所", "address")),
        tlv_encode(TAG_BASIC_BIRTH_DATE, _birth_date_text(birth_date)),
        tlv_encode(TAG_BASIC_SEX, sex.encode("ascii")),
    ]
    offsets_len = len(tlv_encode(TAG_BASIC_OFFSETS, bytes(2 * len(items))))
    content_len = offsets_len + sum(map(len, items))
    outer_header = len(tlv_encode(TAG_BASIC_ITEMS, bytes(content_len))) - content_len
    offsets = bytearray()
    at = outer_header + offsets_len
    for item in items:
        offsets += at.to_bytes(2, "big")
        at += len(item)
    header = tlv_encode(TAG_BASIC_OFFSETS, bytes(offsets))
    out = tlv_encode(TAG_BASIC_ITEMS, header + b"".join(items))
    if len(out) > _MAX_EF_SIZE:
        raise InvalidInput(
            "card.basic_items_too_long",
            "券面事項が長すぎます。",
            "The card-face items are too long for the card.",
            field="name",
        )
    return out


# --- the card ------------------------------------------------------------------


class MyNumberCard:
    """An emulated 個人番号カード: the JPKI AP and the 券面事項入力補助AP over APDUs.

    The card side is :meth:`connect`, :meth:`disconnect` and :meth:`transmit`;
    everything else is the issuer side (see the module doc). All methods are
    thread-safe: one APDU at a time, as on a real contact interface.
    """

    def __init__(self, card_id: str | None = None) -> None:
        card_id = card_id if card_id is not None else secrets.token_hex(16)
        if not _CARD_ID.fullmatch(card_id):
            raise InvalidInput(
                "card.id",
                "カードIDは英数字・'-'・'_'の64文字以内です。",
                "A card id is 1–64 of A–Z a–z 0–9 - _.",
                field="card_id",
            )
        self._card_id = card_id
        self._lock = threading.RLock()
        self._files: dict[bytes, dict[int, _EF]] = {
            JPKI_AID: {JPKI_EF_TOKEN: _BinaryEF(JPKI_TOKEN, None)},
            CARD_INFO_AID: {},
        }
        self._persistence: CardPersistence | None = None
        self._inserted = False
        self._current_app: bytes | None = None
        self._current_ef: int | None = None
        self._verified: set[int] = set()
        self._handlers: dict[tuple[int, int], Callable[[CommandAPDU], ResponseAPDU]] = {
            (0x00, 0xA4): self._select,
            (0x00, 0xB0): self._read_binary,
            (0x00, 0x20): self._verify,
            (0x80, 0x2A): self._compute_digital_signature,
        }

    def __repr__(self) -> str:
        return f"MyNumberCard(card_id={self._card_id!r})"

    @property
    def card_id(self) -> str:
        """The card's identifier (カードID); a card file is named after it."""
        return self._card_id

    @property
    def inserted(self) -> bool:
        return self._inserted

    def bind_persistence(self, persistence: CardPersistence | None) -> None:
        """Save through ``persistence`` after every change from now on (None: stop)."""
        with self._lock:
            self._persistence = persistence

    # --- card side -------------------------------------------------------------

    def connect(self) -> None:
        """The card is inserted (power-on): a fresh session with nothing selected."""
        with self._lock:
            self._inserted = True
            self._reset_session()

    def disconnect(self) -> None:
        """The card is removed: every verified PIN is forgotten."""
        with self._lock:
            self._inserted = False
            self._reset_session()

    def transmit(self, apdu: bytes) -> bytes:
        """Process one command APDU and return response data + SW1 SW2. Never raises."""
        with self._lock:
            try:
                response = self._dispatch(bytes(apdu))
            except Exception:
                # A bug must not reach the reader as an exception any more than a
                # real card could throw one; 6F00 is what a card says then.
                response = _response(SW.NO_PRECISE_DIAGNOSIS)
            return response.to_bytes()

    def _reset_session(self) -> None:
        self._current_app = None
        self._current_ef = None
        self._verified = set()

    def _dispatch(self, raw: bytes) -> ResponseAPDU:
        try:
            cmd = CommandAPDU.parse(raw)
        except APDUFormatError:
            return _response(SW.WRONG_LENGTH)
        if cmd.cla not in (0x00, 0x80):
            return _response(SW.CLA_NOT_SUPPORTED)
        handler = self._handlers.get((cmd.cla, cmd.ins))
        if handler is None:
            return _response(SW.INS_NOT_SUPPORTED)
        return handler(cmd)

    def _current(self) -> _EF | None:
        if self._current_app is None or self._current_ef is None:
            return None
        return self._files[self._current_app].get(self._current_ef)

    def _select(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p2 != 0x0C or cmd.p1 not in (0x02, 0x04):
            return _response(SW.INCORRECT_P1P2)
        if cmd.p1 == 0x04:
            if not cmd.data:
                return _response(SW.WRONG_LENGTH)
            if cmd.data not in self._files:
                return _response(SW.FILE_NOT_FOUND)
            self._reset_session()
            self._current_app = cmd.data
            return _response(SW.OK)
        if len(cmd.data) != 2:
            return _response(SW.WRONG_LENGTH)
        fid = int.from_bytes(cmd.data, "big")
        if self._current_app is None or fid not in self._files[self._current_app]:
            return _response(SW.FILE_NOT_FOUND)
        self._current_ef = fid
        return _response(SW.OK)

    def _read_binary(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.data or cmd.ne is None:
            return _response(SW.WRONG_LENGTH)
        if cmd.p1 & 0x80:  # short-EF addressing, which the card does not offer
            return _response(SW.INCORRECT_P1P2)
        ef = self._current()
        if ef is None:
            return _response(SW.NO_CURRENT_EF)
        if not isinstance(ef, _BinaryEF):
            return _response(SW.INCOMPATIBLE_FILE)
        if ef.read_pin is not None and ef.read_pin not in self._verified:
            return _response(SW.SECURITY_NOT_SATISFIED)
        offset = cmd.p1p2
        if offset >= len(ef.data):
            return _response(SW.WRONG_P1P2)
        return _response(SW.OK, ef.data[offset : offset + cmd.ne])

    def _verify(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return _response(SW.INCORRECT_P1P2)
        if cmd.ne is not None:
            return _response(SW.WRONG_LENGTH)
        ef = self._current()
        if ef is None:
            return _response(SW.NO_CURRENT_EF)
        if not isinstance(ef, _PinEF):
            return _response(SW.INCOMPATIBLE_FILE)
        if ef.tries_left == 0:
            return _response(SW.AUTH_METHOD_BLOCKED)
        if not cmd.data:
            return _response(sw_tries_left(ef.tries_left))
        fid = self._current_ef
        assert fid is not None
        self._verified.discard(fid)
        ef.tries_left -= 1
        if not self._persist_quietly():
            return _response(SW.MEMORY_FAILURE)
        if hmac.compare_digest(cmd.data, ef.secret):
            ef.tries_left = ef.max_tries
            self._verified.add(fid)
            # A failed save here costs the holder at most one try, never gives one.
            self._persist_quietly()
            return _response(SW.OK)
        return _response(sw_tries_left(ef.tries_left))

    def _compute_digital_signature(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return _response(SW.INCORRECT_P1P2)
        if not cmd.data:
            return _response(SW.WRONG_LENGTH)
        ef = self._current()
        if ef is None:
            return _response(SW.NO_CURRENT_EF)
        if not isinstance(ef, _KeyEF):
            return _response(SW.INCOMPATIBLE_FILE)
        if ef.pin_fid not in self._verified:
            return _response(SW.SECURITY_NOT_SATISFIED)
        data = cmd.data
        has_prefix = len(data) == 51 and data.startswith(SHA256_DIGEST_INFO_PREFIX)
        if isinstance(ef.key, rsa.RSAPrivateKey):
            if not has_prefix:
                return _response(SW.WRONG_DATA)
            signature = ef.key.sign(data[19:], padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        else:
            if not has_prefix and len(data) != 32:
                return _response(SW.WRONG_DATA)
            digest = data[19:] if has_prefix else data
            signature = ef.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        if cmd.ne is not None and cmd.ne < len(signature):
            return _response(SW.WRONG_LENGTH)
        return _response(SW.OK, signature)

    # --- persistence -------------------------------------------------------------

    def _persist(self) -> None:
        if self._persistence is not None:
            self._persistence.save(self)

    def _persist_quietly(self) -> bool:
        try:
            self._persist()
        except Exception:
            return False
        return True

    def _export_state(self) -> bytes:
        """The whole card as JSON, private keys included.

        Only :mod:`kojin.card.storage` calls this, and encrypts the result at
        once; it is the one way key material leaves the card object.
        """
        with self._lock:
            files: dict[str, dict[str, dict[str, Any]]] = {}
            for aid, efs in self._files.items():
                out: dict[str, dict[str, Any]] = {}
                for fid, ef in efs.items():
                    out[f"{fid:04X}"] = _ef_to_json(ef)
                files[aid.hex().upper()] = out
            state = {"format": _STATE_FORMAT, "card_id": self._card_id, "files": files}
            return json.dumps(state, sort_keys=True).encode("utf-8")

    @classmethod
    def _restore_state(cls, payload: bytes) -> MyNumberCard:
        """Rebuild a card from :meth:`_export_state` output (for :mod:`kojin.card.storage`)."""
        try:
            state = json.loads(payload)
            if state["format"] != _STATE_FORMAT:
                raise ValueError(f"unknown card state format {state['format']!r}")
            card = cls(str(state["card_id"]))
            for aid_hex, efs in state["files"].items():
                aid = bytes.fromhex(aid_hex)
                if aid not in card._files:
                    raise ValueError(f"unknown application {aid_hex}")
                for fid_hex, ef_json in efs.items():
                    fid = int(fid_hex, 16)
                    card._files[aid][fid] = _ef_from_json(aid, fid, ef_json)
        except (KeyError, TypeError, ValueError, UnsupportedAlgorithm) as exc:
            raise CardStorageError(
                "card.storage_corrupt",
                "カードファイルの内容が壊れています。",
                f"The card file's content is malformed: {exc}",
            ) from exc
        return card

    # --- issuer side (発行・窓口) ---------------------------------------------------

    def generate_key_pair(
        self, which: KeyKind | str, algorithm: KeyAlgorithm | str = KeyAlgorithm.RSA2048
    ) -> PublicKey:
        """Generate a key pair on the card and return only its public key (鍵ペア生成).

        Replacing a key (re-issue) deletes the certificate made for the old one.
        """
        slot = _KEY_SLOTS[KeyKind(which)]
        alg = KeyAlgorithm(algorithm)
        key = _generate(alg)
        with self._lock:
            jpki = self._files[JPKI_AID]
            jpki[slot.key_fid] = _KeyEF(key, alg, _PIN_SLOTS[slot.pin].fid)
            jpki.pop(slot.cert_fid, None)
            self._persist()
        return key.public_key()

    def public_key(self, which: KeyKind | str) -> PublicKey:
        """The public key of a key pair generated on the card."""
        return self._key_ef(KeyKind(which)).key.public_key()

    def key_algorithm(self, which: KeyKind | str) -> KeyAlgorithm:
        return self._key_ef(KeyKind(which)).algorithm

    def _key_ef(self, which: KeyKind) -> _KeyEF:
        with self._lock:
            ef = self._files[JPKI_AID].get(_KEY_SLOTS[which].key_fid)
        if not isinstance(ef, _KeyEF):
            raise Conflict(
                "card.no_key", "鍵ペアがまだ生成されていません。", "No key pair has been generated yet.", field="key"
            )
        return ef

    def write_certificate(self, which: KeyKind | str, certificate: bytes, ca_certificate: bytes | None = None) -> None:
        """Write a JPKI certificate (DER) for the card's key, and optionally its CA's."""
        kind = KeyKind(which)
        slot = _KEY_SLOTS[kind]
        cert = _load_certificate(certificate, "certificate")
        if ca_certificate is not None:
            _load_certificate(ca_certificate, "ca_certificate")
        with self._lock:
            cert_key = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if cert_key != _public_der(self.public_key(kind)):
                raise InvalidInput(
                    "card.certificate_key_mismatch",
                    "証明書の公開鍵がカードの鍵と一致しません。",
                    "The certificate's public key is not the card's key.",
                    field="certificate",
                )
            jpki = self._files[JPKI_AID]
            jpki[slot.cert_fid] = _BinaryEF(certificate, _READ_RULES[JPKI_AID][slot.cert_fid])
            if ca_certificate is not None:
                jpki[slot.ca_fid] = _BinaryEF(ca_certificate, None)
            self._persist()

    def write_card_info(
        self,
        *,
        individual_number: str,
        name: str,
        address: str,
        birth_date: date | str,
        sex: str,
    ) -> None:
        """Write the 券面事項入力補助AP files: the number and the four basic items."""
        validate_individual_number(individual_number)
        basic = build_basic_items_file(name, address, birth_date, sex)
        number = tlv_encode(TAG_INDIVIDUAL_NUMBER, individual_number.encode("ascii"))
        with self._lock:
            efs = self._files[CARD_INFO_AID]
            efs[CARD_INFO_EF_NUMBER] = _BinaryEF(number, CARD_INFO_EF_PIN)
            efs[CARD_INFO_EF_BASIC_ITEMS] = _BinaryEF(basic, CARD_INFO_EF_PIN)
            self._persist()

    def set_pin(self, which: PinKind | str, pin: str) -> None:
        """Set a PIN for the first time (暗証番号の設定), with its full tries."""
        kind = PinKind(which)
        with self._lock:
            if self._pin_ef(kind) is not None:
                raise Conflict(
                    "card.pin_already_set",
                    "暗証番号は設定済みです。",
                    "The PIN is already set; reset it instead.",
                    field=kind.field,
                )
            self._write_pin(kind, pin)

    def reset_pin(self, which: PinKind | str, new_pin: str) -> None:
        """Counter-side unblock (暗証番号の初期化): a new PIN and the full tries again."""
        kind = PinKind(which)
        with self._lock:
            if self._pin_ef(kind) is None:
                raise Conflict(
                    "card.pin_not_set",
                    "暗証番号が設定されていません。",
                    "The PIN has not been set yet.",
                    field=kind.field,
                )
            self._write_pin(kind, new_pin)

    def pin_tries_left(self, which: PinKind | str) -> int:
        """Tries left as the counter sees them (0 = locked); the reader asks by VERIFY."""
        kind = PinKind(which)
        with self._lock:
            ef = self._pin_ef(kind)
            if ef is None:
                raise Conflict(
                    "card.pin_not_set",
                    "暗証番号が設定されていません。",
                    "The PIN has not been set yet.",
                    field=kind.field,
                )
            return ef.tries_left

    def _pin_ef(self, kind: PinKind) -> _PinEF | None:
        slot = _PIN_SLOTS[kind]
        ef = self._files[slot.aid].get(slot.fid)
        return ef if isinstance(ef, _PinEF) else None

    def _write_pin(self, kind: PinKind, pin: str) -> None:
        slot = _PIN_SLOTS[kind]
        validate_pin(kind, pin)
        secret = pin.encode("ascii")
        self._files[slot.aid][slot.fid] = _PinEF(secret, slot.max_tries, slot.max_tries)
        # Whatever was verified under the old PIN must not survive the reset.
        self._verified.discard(slot.fid)
        self._persist()


def _load_certificate(der: bytes, field: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise InvalidInput(
            "card.certificate_der",
            "証明書がDER形式のX.509ではありません。",
            "The certificate is not DER-encoded X.509.",
            field=field,
        ) from exc
    if len(der) > _MAX_EF_SIZE:
        raise InvalidInput(
            "card.certificate_too_long",
            "証明書が大きすぎます。",
            "The certificate is too large for the card.",
            field=field,
        )
    return cert


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ef_to_json(ef: _EF) -> dict[str, Any]:
    if isinstance(ef, _BinaryEF):
        return {"kind": "binary", "data": _b64(ef.data)}
    if isinstance(ef, _PinEF):
        return {"kind": "pin", "secret": _b64(ef.secret), "tries_left": ef.tries_left}
    pkcs8 = ef.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),  # the whole card file is encrypted
    )
    return {"kind": "key", "algorithm": ef.algorithm.value, "pkcs8": _b64(pkcs8)}


def _ef_from_json(aid: bytes, fid: int, obj: dict[str, Any]) -> _EF:
    kind = obj["kind"]
    if kind == "binary" and fid in _READ_RULES[aid]:
        data = base64.b64decode(obj["data"], validate=True)
        return _BinaryEF(data, _READ_RULES[aid][fid])
    if kind == "pin":
        slot = _PIN_AT[aid, fid]
        tries = int(obj["tries_left"])
        if not 0 <= tries <= slot.max_tries:
            raise ValueError(f"tries_left out of range for EF {fid:04X}")
        return _PinEF(base64.b64decode(obj["secret"], validate=True), slot.max_tries, tries)
    if kind == "key" and aid == JPKI_AID:
        key_slot = _KEY_AT[fid]
        # The state is authenticated (AES-GCM under the issuer's secret) and the
        # key was generated by the card itself, so the costly RSA consistency
        # check (tens of ms per key, on every load) would prove nothing new.
        key = serialization.load_der_private_key(
            base64.b64decode(obj["pkcs8"], validate=True),
            password=None,
            unsafe_skip_rsa_key_validation=True,
        )
        algorithm = KeyAlgorithm(obj["algorithm"])
        if algorithm is KeyAlgorithm.RSA2048 and isinstance(key, rsa.RSAPrivateKey):
            return _KeyEF(key, algorithm, _PIN_SLOTS[key_slot.pin].fid)
        if algorithm is KeyAlgorithm.P256 and isinstance(key, ec.EllipticCurvePrivateKey):
            return _KeyEF(key, algorithm, _PIN_SLOTS[key_slot.pin].fid)
        raise ValueError(f"EF {fid:04X} does not hold a {algorithm} key")
    raise ValueError(f"EF {fid:04X} cannot be of kind {kind!r}")
