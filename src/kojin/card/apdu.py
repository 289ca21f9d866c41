"""ISO/IEC 7816-4 APDUs, status words, BER-TLV, and the My Number card profile.

Only short APDUs are supported (Lc ≤ 255, Ne ≤ 256): the JPKI and 券面事項入力補助
commands never need more, and a card that does not announce extended length
must answer anything longer with ``67 00``.

The four command cases, by their encoding:

====== ================================ ================================
case   bytes                            meaning
====== ================================ ================================
1      ``CLA INS P1 P2``                no data, no response data
2      ``CLA INS P1 P2 Le``             response data expected
3      ``CLA INS P1 P2 Lc data``        command data
4      ``CLA INS P1 P2 Lc data Le``     both
====== ================================ ================================

Le ``00`` means Ne = 256. Lc ``00`` would introduce an extended APDU, which is
not supported here, so a 6-or-more-byte APDU with Lc = 00 is malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

__all__ = [
    "CARD_INFO_AID",
    "CARD_INFO_EF_BASIC_ITEMS",
    "CARD_INFO_EF_NUMBER",
    "CARD_INFO_EF_PIN",
    "CARD_INFO_PIN_TRIES",
    "CLA_ISO",
    "CLA_PROPRIETARY",
    "INS_COMPUTE_DIGITAL_SIGNATURE",
    "INS_READ_BINARY",
    "INS_SELECT",
    "INS_VERIFY",
    "JPKI_AID",
    "JPKI_AUTH_PIN_TRIES",
    "JPKI_EF_AUTH_CA_CERT",
    "JPKI_EF_AUTH_CERT",
    "JPKI_EF_AUTH_KEY",
    "JPKI_EF_AUTH_PIN",
    "JPKI_EF_SIGN_CA_CERT",
    "JPKI_EF_SIGN_CERT",
    "JPKI_EF_SIGN_KEY",
    "JPKI_EF_SIGN_PIN",
    "JPKI_EF_TOKEN",
    "JPKI_SIGN_PIN_TRIES",
    "JPKI_TOKEN",
    "MAX_NE",
    "SHA256_DIGEST_INFO_PREFIX",
    "SW",
    "TAG_BASIC_ADDRESS",
    "TAG_BASIC_BIRTH_DATE",
    "TAG_BASIC_ITEMS",
    "TAG_BASIC_NAME",
    "TAG_BASIC_OFFSETS",
    "TAG_BASIC_SEX",
    "TAG_INDIVIDUAL_NUMBER",
    "APDUFormatError",
    "CommandAPDU",
    "ResponseAPDU",
    "compute_digital_signature",
    "read_binary",
    "select_aid",
    "select_ef",
    "sha256_digest_info",
    "sw_tries_left",
    "tlv_encode",
    "tlv_header",
    "tlv_parse",
    "tries_left_from_sw",
    "verify",
]

MAX_NE: Final = 256
"""Largest response a short APDU can ask for (Le = ``00``)."""


class APDUFormatError(ValueError):
    """A byte string that is not a well-formed short APDU (不正なAPDU)."""


class SW(IntEnum):
    """Status words (ステータスワード) the card answers with.

    ``63 Cx`` (x = tries left) is a family rather than one value: build it with
    :func:`sw_tries_left` and read it with :func:`tries_left_from_sw`.
    """

    OK = 0x9000
    END_OF_FILE = 0x6282
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    INCOMPATIBLE_FILE = 0x6981
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    NO_CURRENT_EF = 0x6986
    WRONG_DATA = 0x6A80
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


def sw_tries_left(tries: int) -> int:
    """``63 Cx``: verification failed, ``tries`` attempts remain (0–15)."""
    if not 0 <= tries <= 15:
        raise ValueError(f"tries out of range: {tries}")
    return 0x63C0 | tries


def tries_left_from_sw(sw: int) -> int | None:
    """The x of ``63 Cx``, or None when ``sw`` is not of that family."""
    return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None


# --- the My Number card profile (FACTS.md §3) --------------------------------

CLA_ISO: Final = 0x00
CLA_PROPRIETARY: Final = 0x80
INS_SELECT: Final = 0xA4
INS_READ_BINARY: Final = 0xB0
INS_VERIFY: Final = 0x20
INS_COMPUTE_DIGITAL_SIGNATURE: Final = 0x2A

JPKI_AID: Final = bytes.fromhex("D392F000260100000001")
JPKI_EF_AUTH_CERT: Final = 0x000A
JPKI_EF_AUTH_CA_CERT: Final = 0x000B
JPKI_EF_AUTH_KEY: Final = 0x0017
JPKI_EF_AUTH_PIN: Final = 0x0018
JPKI_EF_SIGN_CERT: Final = 0x0001
JPKI_EF_SIGN_CA_CERT: Final = 0x0002
JPKI_EF_SIGN_KEY: Final = 0x001A
JPKI_EF_SIGN_PIN: Final = 0x001B
JPKI_EF_TOKEN: Final = 0x0006
JPKI_TOKEN: Final = b"JPKIAPICCTOKEN2"
JPKI_AUTH_PIN_TRIES: Final = 3
JPKI_SIGN_PIN_TRIES: Final = 5

CARD_INFO_AID: Final = bytes.fromhex("D3921000310001010408")
CARD_INFO_EF_PIN: Final = 0x0011
CARD_INFO_EF_NUMBER: Final = 0x0001
CARD_INFO_EF_BASIC_ITEMS: Final = 0x0002
CARD_INFO_PIN_TRIES: Final = 3
"""Not confirmed for the real card (FACTS.md marks no figure); kojin uses 3, like
the JPKI 4-digit PIN it is usually set to."""

# BER-TLV tags of the 券面事項入力補助AP files, as real cards lay them out:
# EF 0001 = FF10 {12 ASCII digits}; EF 0002 = FF20 {DF21 offsets, DF22 name,
# DF23 address, DF24 birth date, DF25 sex}.
TAG_INDIVIDUAL_NUMBER: Final = 0xFF10
TAG_BASIC_ITEMS: Final = 0xFF20
TAG_BASIC_OFFSETS: Final = 0xDF21
TAG_BASIC_NAME: Final = 0xDF22
TAG_BASIC_ADDRESS: Final = 0xDF23
TAG_BASIC_BIRTH_DATE: Final = 0xDF24
TAG_BASIC_SEX: Final = 0xDF25

SHA256_DIGEST_INFO_PREFIX: Final = bytes.fromhex("3031300D060960864801650304020105000420")


def sha256_digest_info(digest: bytes) -> bytes:
    """The 51-byte DER DigestInfo for a SHA-256 digest (PKCS#1 v1.5 input)."""
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")
    return SHA256_DIGEST_INFO_PREFIX + digest


# --- command and response APDUs ----------------------------------------------


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise APDUFormatError(f"{name} must be one byte, got {value}")


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    """A short command APDU (コマンドAPDU).

    ``ne`` is the number of response bytes expected (1–256), or None when the
    APDU carries no Le field; Ne = 256 is encoded as Le = ``00``.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            _check_byte(name, getattr(self, name))
        if len(self.data) > 255:
            raise APDUFormatError("command data longer than 255 bytes needs extended length")
        if self.ne is not None and not 1 <= self.ne <= MAX_NE:
            raise APDUFormatError(f"Ne must be 1–{MAX_NE}, got {self.ne}")

    @property
    def case(self) -> int:
        """The ISO 7816-3 command case, 1–4."""
        if self.data:
            return 3 if self.ne is None else 4
        return 1 if self.ne is None else 2

    @property
    def p1p2(self) -> int:
        return self.p1 << 8 | self.p2

    def to_bytes(self) -> bytes:
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out.append(len(self.data))
            out += self.data
        if self.ne is not None:
            out.append(self.ne & 0xFF)  # 256 → 00
        return bytes(out)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """Decode a short APDU; raise :class:`APDUFormatError` if malformed."""
        n = len(raw)
        if n < 4:
            raise APDUFormatError(f"an APDU has at least 4 bytes, got {n}")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        if n == 4:
            return cls(cla, ins, p1, p2)
        if n == 5:
            return cls(cla, ins, p1, p2, ne=raw[4] or MAX_NE)
        lc = raw[4]
        if lc == 0:
            raise APDUFormatError("extended-length APDUs are not supported")
        if n == 5 + lc:
            return cls(cla, ins, p1, p2, bytes(raw[5:]))
        if n == 6 + lc:
            return cls(cla, ins, p1, p2, bytes(raw[5:-1]), raw[-1] or MAX_NE)
        raise APDUFormatError(f"Lc = {lc} does not match an APDU of {n} bytes")


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    """A response APDU (レスポンスAPDU): data followed by SW1 SW2."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not 0 <= self.sw <= 0xFFFF:
            raise APDUFormatError(f"a status word is two bytes, got {self.sw:#x}")

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW.OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @classmethod
    def parse(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise APDUFormatError(f"a response has at least 2 bytes, got {len(raw)}")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


# --- builders for the commands the card understands ---------------------------


def select_aid(aid: bytes) -> CommandAPDU:
    """SELECT by DF name (AID), no response data: ``00 A4 04 0C Lc AID``."""
    return CommandAPDU(CLA_ISO, INS_SELECT, 0x04, 0x0C, aid)


def select_ef(fid: int) -> CommandAPDU:
    """SELECT an EF under the current DF, no response data: ``00 A4 02 0C 02 FID``."""
    if not 0 <= fid <= 0xFFFF:
        raise APDUFormatError(f"a file ID is two bytes, got {fid:#x}")
    return CommandAPDU(CLA_ISO, INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big"))


def read_binary(offset: int, ne: int) -> CommandAPDU:
    """READ BINARY of the current EF: ``00 B0 P1P2 Le`` with a 15-bit offset."""
    if not 0 <= offset <= 0x7FFF:
        raise APDUFormatError(f"offset must be 0–32767, got {offset}")
    return CommandAPDU(CLA_ISO, INS_READ_BINARY, offset >> 8, offset & 0xFF, ne=ne)


def verify(pin: bytes | None) -> CommandAPDU:
    """VERIFY against the current PIN EF: ``00 20 00 80 Lc PIN``.

    With ``pin=None`` it is the case-1 form that only asks for the tries left.
    """
    return CommandAPDU(CLA_ISO, INS_VERIFY, 0x00, 0x80, pin or b"")


def compute_digital_signature(data: bytes) -> CommandAPDU:
    """COMPUTE DIGITAL SIGNATURE with the current key EF: ``80 2A 00 80 Lc data 00``."""
    return CommandAPDU(CLA_PROPRIETARY, INS_COMPUTE_DIGITAL_SIGNATURE, 0x00, 0x80, data, MAX_NE)


# --- BER-TLV (ISO/IEC 7816-4 §5.2, ISO/IEC 8825-1) --------------------------------


def _tag_bytes(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("negative tag")
    out = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    first_is_multibyte = out[0] & 0x1F == 0x1F
    if first_is_multibyte != (len(out) > 1):
        raise ValueError(f"{tag:#x} is not a valid BER tag")
    return out


def _length_bytes(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    if length <= 0xFF:
        return bytes((0x81, length))
    if length <= 0xFFFF:
        return b"\x82" + length.to_bytes(2, "big")
    if length <= 0xFFFFFF:
        return b"\x83" + length.to_bytes(3, "big")
    raise ValueError("TLV value too long")


def tlv_encode(tag: int, value: bytes) -> bytes:
    """One BER-TLV object with the shortest definite length."""
    return _tag_bytes(tag) + _length_bytes(len(value)) + value


def tlv_header(buf: bytes) -> tuple[int, int, int] | None:
    """Decode the tag and length at the start of ``buf``.

    Returns ``(tag, header_length, value_length)``, or None when ``buf`` is too
    short to hold the whole header (the caller reads more and tries again).
    Raises :class:`ValueError` for an encoding that can never become valid.
    """
    if not buf:
        return None
    i = 1
    if buf[0] & 0x1F == 0x1F:
        while True:
            if i >= len(buf):
                return None
            i += 1
            if not buf[i - 1] & 0x80:
                break
            if i > 4:
                raise ValueError("BER tag longer than 4 bytes")
    tag = int.from_bytes(buf[:i], "big")
    if i >= len(buf):
        return None
    first = buf[i]
    if first < 0x80:
        return tag, i + 1, first
    count = first & 0x7F
    if count == 0 or count > 3:
        raise ValueError("indefinite or over-long BER length")
    if i + 1 + count > len(buf):
        return None
    return tag, i + 1 + count, int.from_bytes(buf[i + 1 : i + 1 + count], "big")


def tlv_parse(buf: bytes) -> list[tuple[int, bytes]]:
    """Split ``buf`` into consecutive top-level TLV objects.

    Padding bytes ``00`` and ``FF`` between or after objects are skipped, as
    ISO 7816-4 allows in files; a truncated object raises :class:`ValueError`.
    """
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(buf):
        # FF starts real tags too (FF10, FF20); it is padding only when no tag
        # byte can follow it.
        if buf[i] == 0x00 or (buf[i] == 0xFF and (i + 1 == len(buf) or buf[i + 1] in (0, 0xFF))):
            i += 1
            continue
        head = tlv_header(buf[i:])
        if head is None:
            raise ValueError("truncated TLV")
        tag, hlen, vlen = head
        if i + hlen + vlen > len(buf):
            raise ValueError("TLV value runs past the end")
        out.append((tag, bytes(buf[i + hlen : i + hlen + vlen])))
        i += hlen + vlen
    return out
