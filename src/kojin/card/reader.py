"""The card reader software (カードリーダー側ソフトウェア).

:class:`CardReader` reaches the card only through APDUs on a
:class:`~kojin.card.transport.CardTransport`, so the same code drives the
emulator and a real My Number card on a PC/SC reader. Every operation selects
its application first and selects it again at the end, which on kojin's card
drops any verified PIN: a PIN entered for one operation is never left open for
the next program that talks to the card.

Card answers become exceptions from :mod:`kojin.card.errors`: a wrong PIN is
:class:`~kojin.card.errors.PinWrong` (``card.pin_wrong``, with ``tries_left``),
a locked one :class:`~kojin.card.errors.PinLocked` (``card.pin_locked``), a
missing file :class:`~kojin.card.errors.CardFileMissing`. PINs are checked for
shape before they are sent, since a malformed PIN would still cost a try.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import TypedDict

from kojin.card import reasons
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
    MAX_NE,
    SW,
    TAG_BASIC_ADDRESS,
    TAG_BASIC_BIRTH_DATE,
    TAG_BASIC_ITEMS,
    TAG_BASIC_NAME,
    TAG_BASIC_SEX,
    TAG_INDIVIDUAL_NUMBER,
    APDUFormatError,
    CommandAPDU,
    ResponseAPDU,
    compute_digital_signature,
    read_binary,
    select_aid,
    select_ef,
    sha256_digest_info,
    tlv_header,
    tlv_parse,
    tries_left_from_sw,
    verify,
)
from kojin.card.errors import (
    CardCommunicationError,
    PinKind,
    PinLocked,
    PinWrong,
    UnexpectedStatus,
    validate_pin,
)
from kojin.card.transport import CardTransport
from kojin.core.errors import KojinError

__all__ = ["BasicItems", "CardReader"]

_MAX_TLV_HEADER = 8  # 4 tag bytes + 4 length bytes, the most BER allows here


class BasicItems(TypedDict):
    """The four basic items (基本4情報) as the card holds them."""

    name: str
    address: str
    birth_date: str
    """YYYYMMDD."""
    sex: str
    """'1' male, '2' female."""


def _data_invalid(what_en: str) -> CardCommunicationError:
    return reasons.DATA_INVALID.error(what_en=what_en)


def _normalise_pin(kind: PinKind, pin: str) -> str:
    # Japanese IMEs readily produce full-width digits and letters, and the card
    # itself only knows upper case: accept what the holder meant.
    text = unicodedata.normalize("NFKC", pin) if isinstance(pin, str) else pin
    if kind is PinKind.SIGNATURE and isinstance(text, str):
        text = text.upper()
    return validate_pin(kind, text)


def _digest(data: bytes, prehashed: bool) -> bytes:
    if not prehashed:
        return hashlib.sha256(data).digest()
    if len(data) != 32:
        raise reasons.DIGEST_LENGTH.error()
    return bytes(data)


class CardReader:
    """The client side of the card (カードリーダー): JPKI and 券面事項入力補助 over APDUs.

    Use it as a context manager to mean "the card is on the reader"; it then
    connects the transport on entry and disconnects it on exit.
    """

    def __init__(self, transport: CardTransport, *, chunk_size: int = MAX_NE) -> None:
        """``chunk_size``: the most bytes one READ BINARY asks for (1–256)."""
        if not 1 <= chunk_size <= MAX_NE:
            raise ValueError(f"chunk_size must be 1–{MAX_NE}")
        self._transport = transport
        self._chunk = chunk_size

    @property
    def transport(self) -> CardTransport:
        return self._transport

    def __enter__(self) -> CardReader:
        self._transport.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._transport.disconnect()

    # --- JPKI: 利用者証明用 -------------------------------------------------------

    def read_auth_certificate(self) -> bytes:
        """The 利用者証明用電子証明書 (DER); no PIN needed."""
        with self._application(JPKI_AID):
            return self._read_ef(JPKI_EF_AUTH_CERT, "利用者証明用電子証明書", "user-authentication certificate")

    def read_auth_ca_certificate(self) -> bytes:
        """The CA certificate of the 利用者証明用 certificate (DER)."""
        with self._application(JPKI_AID):
            return self._read_ef(JPKI_EF_AUTH_CA_CERT, "利用者証明用CA証明書", "user-authentication CA certificate")

    def auth_pin_tries_left(self) -> int:
        """Tries left on the 4-digit 利用者証明用 PIN (0 = locked), without using one."""
        with self._application(JPKI_AID):
            return self._tries_left(PinKind.AUTH, JPKI_EF_AUTH_PIN, JPKI_AUTH_PIN_TRIES)

    def sign_with_auth_key(self, pin: str, data: bytes, *, prehashed: bool = False) -> bytes:
        """Sign with the 利用者証明用 key after VERIFY of ``pin``.

        ``data`` is the message, hashed here with SHA-256, or with
        ``prehashed=True`` its 32-byte SHA-256 digest. Returns the card's
        answer: a PKCS#1 v1.5 signature (RSA), or DER ECDSA on a P-256 card.
        """
        pin = _normalise_pin(PinKind.AUTH, pin)
        digest_info = sha256_digest_info(_digest(data, prehashed))
        with self._application(JPKI_AID):
            self._verify(PinKind.AUTH, JPKI_EF_AUTH_PIN, pin)
            return self._sign(JPKI_EF_AUTH_KEY, digest_info)

    # --- JPKI: 署名用 ------------------------------------------------------------

    def read_signature_certificate(self, password: str) -> bytes:
        """The 署名用電子証明書 (DER); it holds the four basic items, so the password is needed."""
        password = _normalise_pin(PinKind.SIGNATURE, password)
        with self._application(JPKI_AID):
            self._verify(PinKind.SIGNATURE, JPKI_EF_SIGN_PIN, password)
            return self._read_ef(JPKI_EF_SIGN_CERT, "署名用電子証明書", "signature certificate")

    def read_signature_ca_certificate(self) -> bytes:
        """The CA certificate of the 署名用 certificate (DER)."""
        with self._application(JPKI_AID):
            return self._read_ef(JPKI_EF_SIGN_CA_CERT, "署名用CA証明書", "signature CA certificate")

    def signature_password_tries_left(self) -> int:
        """Tries left on the 署名用 password (0 = locked), without using one."""
        with self._application(JPKI_AID):
            return self._tries_left(PinKind.SIGNATURE, JPKI_EF_SIGN_PIN, JPKI_SIGN_PIN_TRIES)

    def sign_document(self, password: str, data: bytes, *, prehashed: bool = False) -> bytes:
        """Sign ``data`` (or its SHA-256 digest) with the 署名用 key after VERIFY."""
        password = _normalise_pin(PinKind.SIGNATURE, password)
        digest_info = sha256_digest_info(_digest(data, prehashed))
        with self._application(JPKI_AID):
            self._verify(PinKind.SIGNATURE, JPKI_EF_SIGN_PIN, password)
            return self._sign(JPKI_EF_SIGN_KEY, digest_info)

    def read_token(self) -> bytes:
        """The JPKI token EF (``JPKIAPICCTOKEN2`` on a My Number card)."""
        with self._application(JPKI_AID):
            self._select_ef(JPKI_EF_TOKEN, "トークン", "JPKI token")
            return self._read(0, self._chunk)

    # --- 券面事項入力補助AP ------------------------------------------------------

    def card_info_pin_tries_left(self) -> int:
        """Tries left on the 券面事項入力補助 PIN (0 = locked), without using one."""
        with self._application(CARD_INFO_AID):
            return self._tries_left(PinKind.CARD_INFO, CARD_INFO_EF_PIN, CARD_INFO_PIN_TRIES)

    def read_individual_number(self, pin: str) -> str:
        """The 12-digit individual number (個人番号) printed on the card."""
        pin = _normalise_pin(PinKind.CARD_INFO, pin)
        with self._application(CARD_INFO_AID):
            self._verify(PinKind.CARD_INFO, CARD_INFO_EF_PIN, pin)
            raw = self._read_ef(CARD_INFO_EF_NUMBER, "個人番号", "individual number")
        objects = self._tlv(raw, "individual number")
        if len(objects) != 1 or objects[0][0] != TAG_INDIVIDUAL_NUMBER:
            raise _data_invalid("individual number")
        number = objects[0][1]
        if len(number) != 12 or not number.isdigit():
            raise _data_invalid("individual number")
        return number.decode("ascii")

    def read_basic_items(self, pin: str) -> BasicItems:
        """The four basic items (基本4情報): name, address, birth date, sex."""
        pin = _normalise_pin(PinKind.CARD_INFO, pin)
        with self._application(CARD_INFO_AID):
            self._verify(PinKind.CARD_INFO, CARD_INFO_EF_PIN, pin)
            raw = self._read_ef(CARD_INFO_EF_BASIC_ITEMS, "基本4情報", "basic items")
        outer = self._tlv(raw, "basic items")
        if len(outer) != 1 or outer[0][0] != TAG_BASIC_ITEMS:
            raise _data_invalid("basic items")
        fields = dict(self._tlv(outer[0][1], "basic items"))
        try:
            return BasicItems(
                name=fields[TAG_BASIC_NAME].decode("utf-8"),
                address=fields[TAG_BASIC_ADDRESS].decode("utf-8"),
                birth_date=fields[TAG_BASIC_BIRTH_DATE].decode("ascii"),
                sex=fields[TAG_BASIC_SEX].decode("ascii"),
            )
        except (KeyError, UnicodeDecodeError) as exc:
            raise _data_invalid("basic items") from exc

    # --- APDU plumbing -------------------------------------------------------------

    @staticmethod
    def _tlv(raw: bytes, what_en: str) -> list[tuple[int, bytes]]:
        try:
            return tlv_parse(raw)
        except ValueError as exc:
            raise _data_invalid(what_en) from exc

    def _send(self, cmd: CommandAPDU) -> ResponseAPDU:
        raw = self._transport.transmit(cmd.to_bytes())
        try:
            return ResponseAPDU.parse(raw)
        except APDUFormatError as exc:
            raise _data_invalid("response shorter than a status word") from exc

    @contextmanager
    def _application(self, aid: bytes) -> Iterator[None]:
        response = self._send(select_aid(aid))
        if response.sw == SW.FILE_NOT_FOUND:
            if aid == JPKI_AID:
                raise reasons.FILE_NOT_FOUND.error(what_ja="公的個人認証AP", what_en="JPKI application")
            raise reasons.FILE_NOT_FOUND.error(what_ja="券面事項入力補助AP", what_en="card-information application")
        if not response.ok:
            raise UnexpectedStatus("SELECT AP", response.sw)
        try:
            yield
        finally:
            # Selecting the application again ends the security session, so no
            # verified PIN outlives the operation it was entered for.
            with suppress(KojinError):
                self._send(select_aid(aid))

    def _select_ef(self, fid: int, what_ja: str, what_en: str) -> None:
        response = self._send(select_ef(fid))
        if response.sw == SW.FILE_NOT_FOUND:
            raise reasons.FILE_NOT_FOUND.error(what_ja=what_ja, what_en=what_en)
        if not response.ok:
            raise UnexpectedStatus(f"SELECT EF {fid:04X}", response.sw)

    def _verify(self, kind: PinKind, fid: int, pin: str) -> None:
        self._select_ef(fid, kind.label_ja, kind.label_en)
        response = self._send(verify(pin.encode("ascii")))
        if response.ok:
            return
        tries = tries_left_from_sw(response.sw)
        if response.sw == SW.AUTH_METHOD_BLOCKED or tries == 0:
            raise PinLocked(kind)
        if tries is not None:
            raise PinWrong(kind, tries)
        raise UnexpectedStatus("VERIFY", response.sw)

    def _tries_left(self, kind: PinKind, fid: int, max_tries: int) -> int:
        self._select_ef(fid, kind.label_ja, kind.label_en)
        response = self._send(verify(None))
        tries = tries_left_from_sw(response.sw)
        if tries is not None:
            return tries
        if response.sw == SW.AUTH_METHOD_BLOCKED:
            return 0
        if response.ok:
            # ISO 7816-4 cards answer 90 00 while the PIN stands verified; the
            # counter is then full, since a correct VERIFY restores it.
            return max_tries
        raise UnexpectedStatus("VERIFY", response.sw)

    def _sign(self, key_fid: int, digest_info: bytes) -> bytes:
        self._select_ef(key_fid, "秘密鍵", "private key")
        response = self._send(compute_digital_signature(digest_info))
        if not response.ok:
            raise UnexpectedStatus("COMPUTE DIGITAL SIGNATURE", response.sw)
        return response.data

    def _read(self, offset: int, ne: int) -> bytes:
        response = self._send(read_binary(offset, ne))
        if response.sw1 == 0x6C:  # wrong Le: the card says how many bytes there are
            response = self._send(read_binary(offset, response.sw2 or MAX_NE))
        if response.sw in (SW.OK, SW.END_OF_FILE):
            return response.data
        if response.sw == SW.WRONG_P1P2:
            raise _data_invalid("file shorter than its length field")
        if response.sw == SW.CONDITIONS_NOT_SATISFIED:  # only a withdrawn EF says so: the number
            raise reasons.NUMBER_WITHDRAWN.error()
        raise UnexpectedStatus("READ BINARY", response.sw)

    def _read_ef(self, fid: int, what_ja: str, what_en: str) -> bytes:
        """Read one whole BER-TLV (a DER certificate, an FF20 …) from an EF.

        As real clients do: the first 4 bytes give the length, then the rest
        comes in chunks of at most ``chunk_size``.
        """
        self._select_ef(fid, what_ja, what_en)
        buf = bytearray(self._read(0, 4))
        while True:
            try:
                head = tlv_header(bytes(buf))
            except ValueError as exc:
                raise _data_invalid(what_en) from exc
            if head is not None:
                break
            if len(buf) >= _MAX_TLV_HEADER:
                raise _data_invalid(what_en)
            more = self._read(len(buf), _MAX_TLV_HEADER - len(buf))
            if not more:
                raise _data_invalid(what_en)
            buf += more
        _, header_len, value_len = head
        total = header_len + value_len
        if total - 1 > 0x7FFF:
            raise _data_invalid(what_en)
        while len(buf) < total:
            chunk = self._read(len(buf), min(self._chunk, total - len(buf)))
            if not chunk:
                raise _data_invalid(what_en)
            buf += chunk
        return bytes(buf[:total])
