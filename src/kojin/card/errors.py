"""The PIN rules (:class:`PinKind`, :func:`validate_pin`) and the errors of the card,
the card reader and the card file.

The error classes are defined beside their reason codes and words, in
:mod:`kojin.card.reasons`, and can be imported from here. The PIN number itself
never appears in a message.
"""

from __future__ import annotations

import re
from enum import StrEnum

from kojin.card.reasons import (
    CardCommunicationError,
    CardFileMissing,
    CardNotPresent,
    CardReaderUnavailable,
    CardStorageError,
    PinError,
    PinFormatError,
    PinLocked,
    PinWrong,
    UnexpectedStatus,
)

__all__ = [
    "CardCommunicationError",
    "CardFileMissing",
    "CardNotPresent",
    "CardReaderUnavailable",
    "CardStorageError",
    "PinError",
    "PinFormatError",
    "PinKind",
    "PinLocked",
    "PinWrong",
    "UnexpectedStatus",
    "validate_pin",
]


class PinKind(StrEnum):
    """Which of the card's secrets (暗証番号) is meant."""

    AUTH = "auth"
    """利用者証明用電子証明書の暗証番号: 4 digits, 3 tries (JPKI EF 0018)."""
    SIGNATURE = "signature"
    """署名用電子証明書の暗証番号: 6–16 of A–Z 0–9, 5 tries (JPKI EF 001B)."""
    CARD_INFO = "card_info"
    """券面事項入力補助用の暗証番号: 4 digits, 3 tries (EF 0011)."""

    @property
    def label_ja(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    @property
    def field(self) -> str:
        return "password" if self is PinKind.SIGNATURE else "pin"

    @property
    def pattern(self) -> re.Pattern[str]:
        """The shape the card demands of this secret."""
        return _PATTERNS[self]

    @property
    def shape_ja(self) -> str:
        """That shape in words, for messages."""
        return _SHAPES[self][0]

    @property
    def shape_en(self) -> str:
        return _SHAPES[self][1]


_LABELS: dict[PinKind, tuple[str, str]] = {
    PinKind.AUTH: ("利用者証明用電子証明書の暗証番号", "user-authentication PIN"),
    PinKind.SIGNATURE: ("署名用電子証明書の暗証番号", "signature password"),
    PinKind.CARD_INFO: ("券面事項入力補助用の暗証番号", "card-information PIN"),
}


_SHAPES: dict[PinKind, tuple[str, str]] = {
    PinKind.AUTH: ("4桁の数字", "4 digits"),
    PinKind.SIGNATURE: ("英大文字と数字の6〜16文字", "6–16 characters of A–Z and 0–9"),
    PinKind.CARD_INFO: ("4桁の数字", "4 digits"),
}


_PATTERNS: dict[PinKind, re.Pattern[str]] = {
    PinKind.AUTH: re.compile("[0-9]{4}"),
    PinKind.SIGNATURE: re.compile("[A-Z0-9]{6,16}"),
    PinKind.CARD_INFO: re.compile("[0-9]{4}"),
}


def validate_pin(kind: PinKind | str, pin: str) -> str:
    """Return ``pin`` if it has the shape the card demands, else raise :class:`PinFormatError`."""
    pin_kind = PinKind(kind)
    if not isinstance(pin, str) or not pin_kind.pattern.fullmatch(pin):
        raise PinFormatError(pin_kind)
    return pin
