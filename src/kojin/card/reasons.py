"""Reason codes of card: マイナンバーカード (the card, its reader and card files).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.

The error classes only these codes are raised as are defined here too, so that the
table needs nothing from the modules that raise them; those modules import them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, Unauthenticated

if TYPE_CHECKING:
    from kojin.card.errors import PinKind

TABLE = Table("card", "マイナンバーカード (the card, its reader and card files)", prefixes=("card", "clerk"))


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
            PIN_WRONG.code,
            *PIN_WRONG.text(label_ja=pin.label_ja, tries_left=tries_left, label_en=pin.label_en),
            pin=pin,
            tries_left=tries_left,
        )


class PinLocked(PinError):
    """A PIN locked after too many wrong tries (暗証番号のロック); reset at the municipality."""

    status: ClassVar[int] = 403

    def __init__(self, pin: PinKind) -> None:
        super().__init__(
            PIN_LOCKED.code, *PIN_LOCKED.text(label_ja=pin.label_ja, label_en=pin.label_en), pin=pin, tries_left=0
        )


class PinFormatError(InvalidInput):
    """A PIN of the wrong shape, refused before it reaches the card (暗証番号の形式誤り).

    Refusing it here matters: sent to the card it would cost a try.
    """

    def __init__(self, pin: PinKind) -> None:
        super().__init__(
            PIN_FORMAT.code,
            *PIN_FORMAT.text(
                label_ja=pin.label_ja, shape_ja=pin.shape_ja, label_en=pin.label_en, shape_en=pin.shape_en
            ),
            field=pin.field,
        )
        self.pin = pin


class CardCommunicationError(KojinError):
    """The card or the reader could not be talked to (カードとの通信エラー)."""

    status: ClassVar[int] = 503


class CardNotPresent(CardCommunicationError):
    """No card on the reader (カード未挿入)."""


class CardReaderUnavailable(CardCommunicationError):
    """No usable PC/SC stack or reader (カードリーダー利用不可)."""


class UnexpectedStatus(KojinError):
    """The card answered a status word the reader did not expect (想定外の応答)."""

    status: ClassVar[int] = 502

    def __init__(self, command: str, sw: int) -> None:
        super().__init__(UNEXPECTED_STATUS.code, *UNEXPECTED_STATUS.text(command=command, sw=sw), field="card")
        self.command = command
        self.sw = sw


class CardFileMissing(NotFound):
    """A file the card does not hold, e.g. on a card not yet issued (ファイルなし)."""


class CardStorageError(KojinError):
    """A card file that cannot be read back (カードファイルの破損・鍵違い)."""

    status: ClassVar[int] = 500


ADDRESS_CONTROL = TABLE.reason(
    "card.address_control",
    InvalidInput,
    "{label_ja}に制御文字が含まれています。",
    "The {label_en} contains control characters.",
    field="address",
)

ADDRESS_EMPTY = TABLE.reason(
    "card.address_empty",
    InvalidInput,
    "{label_ja}が空です。",
    "The {label_en} is empty.",
    field="address",
)

ADDRESS_ENCODING = TABLE.reason(
    "card.address_encoding",
    InvalidInput,
    "{label_ja}をUTF-8で表せません。",
    "The {label_en} cannot be encoded as UTF-8.",
    field="address",
)

BASIC_ITEMS_TOO_LONG = TABLE.reason(
    "card.basic_items_too_long",
    InvalidInput,
    "券面事項が長すぎます。",
    "The card-face items are too long for the card.",
    field="name",
)

BIRTH_DATE = TABLE.reason(
    "card.birth_date",
    InvalidInput,
    "生年月日はYYYYMMDDの実在する日付です。",
    "The birth date must be a real date as YYYYMMDD.",
    field="birth_date",
)

CERTIFICATE_DER = TABLE.reason(
    "card.certificate_der",
    InvalidInput,
    "証明書がDER形式のX.509ではありません。",
    "The certificate is not DER-encoded X.509.",
)

CERTIFICATE_KEY_MISMATCH = TABLE.reason(
    "card.certificate_key_mismatch",
    InvalidInput,
    "証明書の公開鍵がカードの鍵と一致しません。",
    "The certificate's public key is not the card's key.",
    field="certificate",
)

CERTIFICATE_TOO_LONG = TABLE.reason(
    "card.certificate_too_long",
    InvalidInput,
    "証明書が大きすぎます。",
    "The certificate is too large for the card.",
)

CONFIRM = TABLE.reason(
    "card.confirm",
    InvalidInput,
    "確認欄にチェックを入れてください。",
    "Tick the confirmation box.",
    field="confirm",
)

DATA_INVALID = TABLE.reason(
    "card.data_invalid",
    CardCommunicationError,
    "カードのデータの形式が不正です。",
    "The card's data is malformed ({what_en}).",
    field="card",
)

DIGEST_LENGTH = TABLE.reason(
    "card.digest_length",
    InvalidInput,
    "ハッシュ値はSHA-256の32バイトです。",
    "A prehashed input must be a 32-byte SHA-256 digest.",
    field="digest",
)

FILE_MISSING = TABLE.reason(
    "card.file_missing",
    NotFound,
    "カードファイルが見つかりません。",
    "The card file is missing.",
    field="card_id",
)

FILE_NOT_FOUND = TABLE.reason(
    "card.file_not_found",
    CardFileMissing,
    "カードに{what_ja}がありません。",
    "The card holds no {what_en}.",
    field="card",
)

ID = TABLE.reason(
    "card.id",
    InvalidInput,
    "カードIDは英数字・'-'・'_'の64文字以内です。",
    "A card id is 1–64 of A–Z a–z 0–9 - _.",
    field="card_id",
)

IO_ERROR = TABLE.reason(
    "card.io_error",
    CardCommunicationError,
    "カードと通信できませんでした。",
    "Could not communicate with the card.",
    field="card",
)

NAME_CONTROL = TABLE.reason(
    "card.name_control",
    InvalidInput,
    "{label_ja}に制御文字が含まれています。",
    "The {label_en} contains control characters.",
    field="name",
)

NAME_EMPTY = TABLE.reason(
    "card.name_empty",
    InvalidInput,
    "{label_ja}が空です。",
    "The {label_en} is empty.",
    field="name",
)

NAME_ENCODING = TABLE.reason(
    "card.name_encoding",
    InvalidInput,
    "{label_ja}をUTF-8で表せません。",
    "The {label_en} cannot be encoded as UTF-8.",
    field="name",
)

NO_KEY = TABLE.reason(
    "card.no_key",
    Conflict,
    "鍵ペアがまだ生成されていません。",
    "No key pair has been generated yet.",
    field="key",
)

NOT_ACTIVE = TABLE.reason(
    "card.not_active",
    Conflict,
    "このカードは既に失効しています。",
    "This card is no longer active.",
    field="card_id",
)

MUST_RETURN = TABLE.reason(
    "card.must_return",
    Conflict,
    "個人番号が変更されたため、このカードは返納が必要です。市区町村の窓口で新しいカードを申請してください。",
    "The individual number was changed: this card must be returned. Apply for a new card at the municipality.",
    field="card_id",
)

NUMBER_WITHDRAWN = TABLE.reason(
    "card.number_withdrawn",
    Conflict,
    "個人番号が変更されたため、このカードから個人番号は読み取れません。カードは返納が必要です。",
    "The individual number was changed: this card no longer gives it out and must be returned.",
    field="card",
)

NOT_PERSONALISED = TABLE.reason(
    "card.not_personalised",
    Conflict,
    "このカードには券面事項が書き込まれていません。",
    "Nothing has been written to this card's card-information application.",
    field="card_id",
)

NOT_FOUND = TABLE.reason(
    "card.not_found",
    NotFound,
    "そのカードはありません。",
    "No such card.",
    field="card",
)

NOT_PRESENT = TABLE.reason(
    "card.not_present",
    CardNotPresent,
    "カードが置かれていません。カードをリーダーに置いてください。",
    "No card on the reader; place the card on the reader.",
    field="card",
)

NOT_RESIDENT = TABLE.reason(
    "card.not_resident",
    Conflict,
    "住民登録のない人にはカードを交付できません。",
    "A card is issued only to a current resident.",
    field="resident_id",
)

PIN_ALREADY_SET = TABLE.reason(
    "card.pin_already_set",
    Conflict,
    "暗証番号は設定済みです。",
    "The PIN is already set; reset it instead.",
)

PIN_FORMAT = TABLE.reason(
    "card.pin_format",
    PinFormatError,
    "{label_ja}は{shape_ja}です。",
    "The {label_en} is {shape_en}.",
)

PIN_LOCKED = TABLE.reason(
    "card.pin_locked",
    PinLocked,
    "{label_ja}はロックされています。市区町村の窓口で初期化してください。",
    "The {label_en} is locked; have it reset at the municipal office.",
)

PIN_NOT_SET = TABLE.reason(
    "card.pin_not_set",
    Conflict,
    "暗証番号が設定されていません。",
    "The PIN has not been set yet.",
)

PIN_WRONG = TABLE.reason(
    "card.pin_wrong",
    PinWrong,
    "{label_ja}が違います。あと{tries_left}回間違えるとロックされます。",
    "Wrong {label_en}; {tries_left} tries left before it locks.",
)

READER_UNAVAILABLE = TABLE.reason(
    "card.reader_unavailable",
    CardReaderUnavailable,
    "カードリーダーを利用できません。",
    "The card reader is unavailable: {detail_en}",
    field="card",
)

SEX = TABLE.reason(
    "card.sex",
    InvalidInput,
    "性別は'1'（男）か'2'（女）です。",
    "Sex is '1' (male) or '2' (female).",
    field="sex",
)

SIGNATURE_PASSWORD_MISSING = TABLE.reason(
    "card.signature_password_missing",
    InvalidInput,
    "署名用電子証明書の暗証番号（6〜16文字）を入力してください。",
    "The signature password (6–16 characters) is required.",
    field="signature_password",
)

STORAGE_CORRUPT = TABLE.reason(
    "card.storage_corrupt",
    CardStorageError,
    "カードファイルの内容が壊れています。",
    "The card file's content is malformed: {detail}",
    field="card_file",
)

STORAGE_MISSING = TABLE.reason(
    "card.storage_missing",
    CardStorageError,
    "カードファイルがありません。",
    "No card file at {path}.",
    field="card_file",
)

STORAGE_NAME_MISMATCH = TABLE.reason(
    "card.storage_name_mismatch",
    CardStorageError,
    "カードファイルの名前がカードIDと一致しません。",
    "A card file must be named after its card id ({card_id}).",
    field="card_file",
)

STORAGE_SECRET = TABLE.reason(
    "card.storage_secret",
    InvalidInput,
    "カードファイルの鍵は{min_secret_length}バイト以上の乱数です。",
    "The card-file secret must be at least {min_secret_length} random bytes.",
    field="secret",
)

STORAGE_UNREADABLE = TABLE.reason(
    "card.storage_unreadable",
    CardStorageError,
    "カードファイルを復号できません（鍵が違うか、改ざん・改名されています）。",
    "The card file does not decrypt: wrong secret, or the file was altered or renamed.",
    field="card_file",
)

UNEXPECTED_STATUS = TABLE.reason(
    "card.unexpected_status",
    UnexpectedStatus,
    "カードがエラーを返しました（{command}: {sw:04X}）。",
    "The card answered {sw:04X} to {command}.",
    field="card",
)

WHICH = TABLE.reason(
    "card.which",
    KojinError,
    "カードIDか --resident を指定してください。",
    "Give a card id or --resident.",
    field="card_id",
)

CLERK_EMPTY = TABLE.reason(
    "clerk.empty",
    InvalidInput,
    "担当者を入力してください。",
    "Who reset the PIN is required.",
    field="clerk",
)

CONTROL_BY_FIELD = {
    "name": NAME_CONTROL,
    "address": ADDRESS_CONTROL,
}

EMPTY_BY_FIELD = {
    "name": NAME_EMPTY,
    "address": ADDRESS_EMPTY,
}

ENCODING_BY_FIELD = {
    "name": NAME_ENCODING,
    "address": ADDRESS_ENCODING,
}
