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
0001  ``FF 10 0C`` + the 12 ASCII digits            READ BINARY after 0011;
                                                   ``69 85`` once withdrawn
0002  the four basic items (基本4情報)               READ BINARY after 0011
====  ===========================================  ==========================

:class:`MyNumberCard` is the card as a whole; its parts are

- :mod:`kojin.card.files` — the applications' elementary files and who may read them;
- :mod:`kojin.card.commands` — the APDUs it answers and how (the protocol choices
  where ISO 7816-4 leaves one, and the status words);
- :mod:`kojin.card.pins` — PIN tries, counted before they are compared;
- :mod:`kojin.card.keypairs` — keys made on the card and what they sign;
- :mod:`kojin.card.basic_items` — the layout of EF 0002 of the 券面事項入力補助AP;
- :mod:`kojin.card.snapshot` — the whole state as JSON, for :mod:`kojin.card.storage`.

``transmit`` never raises. Personalisation (発行) is not done by APDU here. The
issuer-side methods (:meth:`MyNumberCard.generate_key_pair`,
:meth:`~MyNumberCard.write_certificate`, :meth:`~MyNumberCard.write_card_info`,
:meth:`~MyNumberCard.set_pin`, :meth:`~MyNumberCard.reset_pin`) stand for the
issuer's secure personalisation channel and the municipal counter. Key pairs are
generated on the card and only public keys come out; no method returns a
private key.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import date
from typing import Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from kojin.card import reasons
from kojin.card.apdu import (
    CARD_INFO_AID,
    CARD_INFO_EF_BASIC_ITEMS,
    CARD_INFO_EF_NUMBER,
    CARD_INFO_EF_PIN,
    JPKI_AID,
    SW,
    TAG_INDIVIDUAL_NUMBER,
    tlv_encode,
)
from kojin.card.basic_items import build_basic_items_file
from kojin.card.commands import CommandProcessor, response
from kojin.card.errors import PinKind
from kojin.card.files import KEY_SLOTS, READ_RULES, BinaryEF, KeyEF, blank_file_system, load_certificate
from kojin.card.keypairs import KeyAlgorithm, KeyKind, PublicKey, generate, public_der
from kojin.card.pins import PIN_SLOTS, PinEF, new_pin_ef
from kojin.card.snapshot import export_state, read_state, restore_files
from kojin.core.errors import Conflict
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

_CARD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CardPersistence(Protocol):
    """Where a card saves itself whenever its state changes (カード状態の保存先)."""

    def save(self, card: MyNumberCard) -> None: ...


def _pin_not_set(kind: PinKind) -> Conflict:
    return reasons.PIN_NOT_SET.error(field=kind.field)


class MyNumberCard:
    """An emulated 個人番号カード: the JPKI AP and the 券面事項入力補助AP over APDUs.

    The card side is :meth:`connect`, :meth:`disconnect` and :meth:`transmit`;
    everything else is the issuer side (see the module doc). All methods are
    thread-safe: one APDU at a time, as on a real contact interface.
    """

    def __init__(self, card_id: str | None = None) -> None:
        card_id = card_id if card_id is not None else secrets.token_hex(16)
        if not _CARD_ID.fullmatch(card_id):
            raise reasons.ID.error()
        self._card_id = card_id
        self._lock = threading.RLock()
        self._files = blank_file_system()
        self._persistence: CardPersistence | None = None
        self._inserted = False
        self._commands = CommandProcessor(self._files, self._persist_quietly)

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
            self._commands.reset_session()

    def disconnect(self) -> None:
        """The card is removed: every verified PIN is forgotten."""
        with self._lock:
            self._inserted = False
            self._commands.reset_session()

    def transmit(self, apdu: bytes) -> bytes:
        """Process one command APDU and return response data + SW1 SW2. Never raises."""
        with self._lock:
            try:
                answer = self._commands.dispatch(bytes(apdu))
            except Exception:
                # A bug must not reach the reader as an exception any more than a
                # real card could throw one; 6F00 is what a card says then.
                answer = response(SW.NO_PRECISE_DIAGNOSIS)
            return answer.to_bytes()

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
            return export_state(self._card_id, self._files)

    @classmethod
    def _restore_state(cls, payload: bytes) -> MyNumberCard:
        """Rebuild a card from :meth:`_export_state` output (for :mod:`kojin.card.storage`)."""
        try:
            card_id, files = read_state(payload)
            card = cls(card_id)
            restore_files(card._files, files)
        except (KeyError, TypeError, ValueError, UnsupportedAlgorithm) as exc:
            raise reasons.STORAGE_CORRUPT.error(detail=exc) from exc
        return card

    # --- issuer side (発行・窓口) ---------------------------------------------------

    def generate_key_pair(
        self, which: KeyKind | str, algorithm: KeyAlgorithm | str = KeyAlgorithm.RSA2048
    ) -> PublicKey:
        """Generate a key pair on the card and return only its public key (鍵ペア生成).

        Replacing a key (re-issue) deletes the certificate made for the old one.
        """
        slot = KEY_SLOTS[KeyKind(which)]
        alg = KeyAlgorithm(algorithm)
        key = generate(alg)
        with self._lock:
            jpki = self._files[JPKI_AID]
            jpki[slot.key_fid] = KeyEF(key, alg, PIN_SLOTS[slot.pin].fid)
            jpki.pop(slot.cert_fid, None)
            self._persist()
        return key.public_key()

    def public_key(self, which: KeyKind | str) -> PublicKey:
        """The public key of a key pair generated on the card."""
        return self._key_ef(KeyKind(which)).key.public_key()

    def key_algorithm(self, which: KeyKind | str) -> KeyAlgorithm:
        return self._key_ef(KeyKind(which)).algorithm

    def _key_ef(self, which: KeyKind) -> KeyEF:
        with self._lock:
            ef = self._files[JPKI_AID].get(KEY_SLOTS[which].key_fid)
        if not isinstance(ef, KeyEF):
            raise reasons.NO_KEY.error()
        return ef

    def write_certificate(self, which: KeyKind | str, certificate: bytes, ca_certificate: bytes | None = None) -> None:
        """Write a JPKI certificate (DER) for the card's key, and optionally its CA's."""
        kind = KeyKind(which)
        slot = KEY_SLOTS[kind]
        cert = load_certificate(certificate, "certificate")
        if ca_certificate is not None:
            load_certificate(ca_certificate, "ca_certificate")
        with self._lock:
            cert_key = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if cert_key != public_der(self.public_key(kind)):
                raise reasons.CERTIFICATE_KEY_MISMATCH.error()
            jpki = self._files[JPKI_AID]
            jpki[slot.cert_fid] = BinaryEF(certificate, READ_RULES[JPKI_AID][slot.cert_fid])
            if ca_certificate is not None:
                jpki[slot.ca_fid] = BinaryEF(ca_certificate, None)
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
            efs[CARD_INFO_EF_NUMBER] = BinaryEF(number, CARD_INFO_EF_PIN)
            efs[CARD_INFO_EF_BASIC_ITEMS] = BinaryEF(basic, CARD_INFO_EF_PIN)
            self._persist()

    def write_basic_items(self, *, name: str, address: str, birth_date: date | str, sex: str) -> None:
        """Rewrite EF 0002 of the 券面事項入力補助AP (the counter's 券面記載事項の変更), PIN untouched."""
        basic = build_basic_items_file(name, address, birth_date, sex)
        with self._lock:
            self._files[CARD_INFO_AID][CARD_INFO_EF_BASIC_ITEMS] = BinaryEF(basic, CARD_INFO_EF_PIN)
            self._persist()

    def withdraw_number(self) -> None:
        """Erase the number from EF 0001; from now on reading it answers ``69 85``.

        Done when the number is changed: the card must go back to the
        municipality, and until then it must not hand out the retired number.
        """
        with self._lock:
            efs = self._files[CARD_INFO_AID]
            if CARD_INFO_EF_NUMBER not in efs:
                raise reasons.NOT_PERSONALISED.error()
            efs[CARD_INFO_EF_NUMBER] = BinaryEF(b"", CARD_INFO_EF_PIN, withdrawn=True)
            self._persist()

    @property
    def number_withdrawn(self) -> bool:
        """Whether EF 0001 was withdrawn (the counter's view; a reader learns it by ``69 85``)."""
        with self._lock:
            ef = self._files[CARD_INFO_AID].get(CARD_INFO_EF_NUMBER)
            return isinstance(ef, BinaryEF) and ef.withdrawn

    def set_pin(self, which: PinKind | str, pin: str) -> None:
        """Set a PIN for the first time (暗証番号の設定), with its full tries."""
        kind = PinKind(which)
        with self._lock:
            if self._pin_ef(kind) is not None:
                raise reasons.PIN_ALREADY_SET.error(field=kind.field)
            self._write_pin(kind, pin)

    def reset_pin(self, which: PinKind | str, new_pin: str) -> None:
        """Counter-side unblock (暗証番号の初期化): a new PIN and the full tries again."""
        kind = PinKind(which)
        with self._lock:
            if self._pin_ef(kind) is None:
                raise _pin_not_set(kind)
            self._write_pin(kind, new_pin)

    def pin_tries_left(self, which: PinKind | str) -> int:
        """Tries left as the counter sees them (0 = locked); the reader asks by VERIFY."""
        kind = PinKind(which)
        with self._lock:
            ef = self._pin_ef(kind)
            if ef is None:
                raise _pin_not_set(kind)
            return ef.tries_left

    def _pin_ef(self, kind: PinKind) -> PinEF | None:
        slot = PIN_SLOTS[kind]
        ef = self._files[slot.aid].get(slot.fid)
        return ef if isinstance(ef, PinEF) else None

    def _write_pin(self, kind: PinKind, pin: str) -> None:
        slot = PIN_SLOTS[kind]
        self._files[slot.aid][slot.fid] = new_pin_ef(kind, pin)
        # Whatever was verified under the old PIN must not survive the reset.
        self._commands.verified.discard(slot.fid)
        self._persist()
