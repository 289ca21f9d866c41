"""Domain errors of the card, the card reader and the card file, and the PIN
rules (:class:`PinKind`, :func:`validate_pin`) those errors speak of.

Each carries a stable reason code under ``card.`` and a message in Japanese and
English, through the one error shape of :mod:`kojin.core.errors`. The PIN
number itself never appears in a message.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import ClassVar

from kojin.core.errors import InvalidInput, KojinError, NotFound, Unauthenticated

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


_LABELS: dict[PinKind, tuple[str, str]] = {
    PinKind.AUTH: ("利用者証明用電子証明書の暗証番号", "user-authentication PIN"),
    PinKind.SIGNATURE: ("署名用電子証明書の暗証番号", "signature password"),
    PinKind.CARD_INFO: ("券面事項入力補助用の暗証番号", "card-information PIN"),
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


class PinError(Unauthenticated):
    """A PIN the card refused (暗証番号の誤り・ロック); ``tries_left`` says how many remain."""

    def __init__(self, code: str, message_ja: str, message_en: str, *, pin: PinKind, tries_left: int) -> None:
        super().__init__(code, message_ja, message_en, field=pin.field)
        self.pin = pin
        self.tries_left = tries_left


class PinWrong(PinError):
    """A wrong PIN with tries remaining (暗証番号の誤り)."""

    def __init__(self, pin: PinKind, tries_left: int) -> None:
        super().__init__(
            "card.pin_wrong",
            f"{pin.label_ja}が違います。あと{tries_left}回間違えるとロックされます。",
            f"Wrong {pin.label_en}; {tries_left} tries left before it locks.",
            pin=pin,
            tries_left=tries_left,
        )


class PinLocked(PinError):
    """A PIN locked after too many wrong tries (暗証番号のロック); reset at the municipality."""

    status: ClassVar[int] = 403

    def __init__(self, pin: PinKind) -> None:
        super().__init__(
            "card.pin_locked",
            f"{pin.label_ja}はロックされています。市区町村の窓口で初期化してください。",
            f"The {pin.label_en} is locked; have it reset at the municipal office.",
            pin=pin,
            tries_left=0,
        )


class PinFormatError(InvalidInput):
    """A PIN of the wrong shape, refused before it reaches the card (暗証番号の形式誤り).

    Refusing it here matters: sent to the card it would cost a try.
    """

    def __init__(self, pin: PinKind) -> None:
        if pin is PinKind.SIGNATURE:
            ja = f"{pin.label_ja}は英大文字と数字の6〜16文字です。"
            en = f"The {pin.label_en} is 6–16 characters of A–Z and 0–9."
        else:
            ja = f"{pin.label_ja}は4桁の数字です。"
            en = f"The {pin.label_en} is 4 digits."
        super().__init__("card.pin_format", ja, en, field=pin.field)
        self.pin = pin


class CardCommunicationError(KojinError):
    """The card or the reader could not be talked to (カードとの通信エラー)."""

    status: ClassVar[int] = 503

    def __init__(
        self,
        code: str = "card.io_error",
        message_ja: str = "カードと通信できませんでした。",
        message_en: str | None = "Could not communicate with the card.",
    ) -> None:
        super().__init__(code, message_ja, message_en, field="card")


class CardNotPresent(CardCommunicationError):
    """No card on the reader (カード未挿入)."""

    def __init__(self) -> None:
        super().__init__(
            "card.not_present",
            "カードが置かれていません。カードをリーダーに置いてください。",
            "No card on the reader; place the card on the reader.",
        )


class CardReaderUnavailable(CardCommunicationError):
    """No usable PC/SC stack or reader (カードリーダー利用不可)."""

    def __init__(self, detail_en: str) -> None:
        super().__init__(
            "card.reader_unavailable",
            "カードリーダーを利用できません。",
            f"The card reader is unavailable: {detail_en}",
        )


class UnexpectedStatus(KojinError):
    """The card answered a status word the reader did not expect (想定外の応答)."""

    status: ClassVar[int] = 502

    def __init__(self, command: str, sw: int) -> None:
        super().__init__(
            "card.unexpected_status",
            f"カードがエラーを返しました（{command}: {sw:04X}）。",
            f"The card answered {sw:04X} to {command}.",
            field="card",
        )
        self.command = command
        self.sw = sw


class CardFileMissing(NotFound):
    """A file the card does not hold, e.g. on a card not yet issued (ファイルなし)."""

    def __init__(self, what_ja: str, what_en: str) -> None:
        super().__init__(
            "card.file_not_found",
            f"カードに{what_ja}がありません。",
            f"The card holds no {what_en}.",
            field="card",
        )


class CardStorageError(KojinError):
    """A card file that cannot be read back (カードファイルの破損・鍵違い)."""

    status: ClassVar[int] = 500

    def __init__(self, code: str, message_ja: str, message_en: str) -> None:
        super().__init__(code, message_ja, message_en, field="card_file")
