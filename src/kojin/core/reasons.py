"""Reason codes of core: 共通 (requests, forms and what every party shares).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.

The error classes only these codes are raised as are defined here too, so that the
table needs nothing from the modules that raise them; those modules import them back.
"""

from __future__ import annotations

from typing import ClassVar

from kojin.core.catalogue import Table
from kojin.core.errors import InvalidInput, KojinError, NotPermitted

TABLE = Table(
    "core",
    "共通 (requests, forms and what every party shares)",
    prefixes=(
        "crypto",
        "csrf",
        "demo",
        "expires_on",
        "form",
        "from",
        "kana",
        "name",
        "period_of_stay_until",
        "request",
        "serve",
        "store",
        "to",
    ),
    codes=(
        "assignment_date.invalid",
        "birth_date.invalid",
        "effective_date.invalid",
        "ehr.consent_other_clinic",
        "postal_code.format",
    ),
)


class WriterClosed(KojinError):
    """The store's writer has stopped (書込み停止中)."""

    status = 503


class CsrfRejected(NotPermitted):
    """A state-changing request without the session's CSRF token (CSRF対策)."""


class PayloadTooLarge(KojinError):
    """A request body over the page limit (送信データが大きすぎる)."""

    status: ClassVar[int] = 413


ASSIGNMENT_DATE_INVALID = TABLE.reason(
    "assignment_date.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="assignment_date",
)

BIRTH_DATE_INVALID = TABLE.reason(
    "birth_date.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="birth_date",
)

CRYPTO_BAD_BOX_KEY = TABLE.reason(
    "crypto.bad_box_key",
    InvalidInput,
    "暗号化鍵（X25519）が不正です。",
    "The X25519 key is not valid.",
    field="box_key",
)

CRYPTO_SEALED_MALFORMED = TABLE.reason(
    "crypto.sealed_malformed",
    NotPermitted,
    "暗号文が不正です。",
    "The sealed answer is malformed.",
)

CRYPTO_SEALED_TAMPERED = TABLE.reason(
    "crypto.sealed_tampered",
    NotPermitted,
    "暗号文を復号できません（改ざん、宛先違い、または送信元違い）。",
    "The sealed answer does not open (tampered, not for this recipient, or not from this sender).",
)

CSRF_INVALID = TABLE.reason(
    "csrf.invalid",
    CsrfRejected,
    "この操作は受け付けられませんでした（画面が古いか、別のサイトから送られました）。画面を開き直してください。",
    "This request was refused: the page was stale or it came from another site. Reload the page.",
    field="csrf_token",
)

DEMO_EMPTY = TABLE.reason(
    "demo.empty",
    KojinError,
    "デモ用の住民がいません。",
    "There are no demo residents.",
    field="residents",
)

EFFECTIVE_DATE_INVALID = TABLE.reason(
    "effective_date.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="effective_date",
)

EHR_CONSENT_OTHER_CLINIC = TABLE.reason(
    "ehr.consent_other_clinic",
    NotPermitted,
    "この受診と同意は別の医療機関のものです。閲覧できません。",
    "This visit and its consent belong to another clinic; nothing may be viewed.",
    field="visit_id",
)

EXPIRES_ON_INVALID = TABLE.reason(
    "expires_on.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="expires_on",
)

FORM_CONTROL = TABLE.reason(
    "form.control",
    InvalidInput,
    "入力に制御文字が含まれています。",
    "The input contains control characters.",
)

FORM_FILE = TABLE.reason(
    "form.file",
    InvalidInput,
    "ファイルは受け付けません。",
    "Files are not accepted here.",
)

FORM_INVALID = TABLE.reason(
    "form.invalid",
    InvalidInput,
    "選択が正しくありません。",
    "Invalid choice.",
)

FORM_REPEATED = TABLE.reason(
    "form.repeated",
    InvalidInput,
    "{name} が複数あります。",
    "{name} was sent more than once.",
)

FORM_REQUIRED = TABLE.reason(
    "form.required",
    InvalidInput,
    "入力してください。",
    "This field is required.",
)

FORM_TOO_LONG = TABLE.reason(
    "form.too_long",
    InvalidInput,
    "入力が長すぎます（{max_chars}文字まで）。",
    "The input is too long ({max_chars} characters at most).",
)

FORM_TOO_MANY = TABLE.reason(
    "form.too_many",
    InvalidInput,
    "選択が多すぎます。",
    "Too many values.",
)

FROM_INVALID = TABLE.reason(
    "from.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="from",
)

KANA_EMPTY = TABLE.reason(
    "kana.empty",
    InvalidInput,
    "フリガナが空です。",
    "The kana reading is empty.",
    field="kana",
)

KANA_HALFWIDTH = TABLE.reason(
    "kana.halfwidth",
    InvalidInput,
    "フリガナに半角カナがあります。全角カタカナで入力してください。",
    "The kana reading contains half-width kana; use full-width katakana.",
    field="kana",
)

KANA_NOT_KATAKANA = TABLE.reason(
    "kana.not_katakana",
    InvalidInput,
    "フリガナは全角カタカナで入力してください（「{bad}」は使えません）。",
    "The kana reading must be full-width katakana ({kind} character {bad!r} found).",
    field="kana",
)

KANA_TOO_LONG = TABLE.reason(
    "kana.too_long",
    InvalidInput,
    "フリガナが長すぎます。",
    "The kana reading is too long.",
    field="kana",
)

NAME_CONTROL = TABLE.reason(
    "name.control",
    InvalidInput,
    "氏名に制御文字があります。",
    "The name contains control characters.",
    field="name",
)

NAME_EMPTY = TABLE.reason(
    "name.empty",
    InvalidInput,
    "{what_ja}が空です。",
    "The {what_en} is empty.",
    field="name",
)

NAME_TOO_LONG = TABLE.reason(
    "name.too_long",
    InvalidInput,
    "氏名が長すぎます（100文字まで）。",
    "The name is too long (100 characters at most).",
    field="name",
)

PERIOD_OF_STAY_UNTIL_INVALID = TABLE.reason(
    "period_of_stay_until.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="period_of_stay_until",
)

POSTAL_CODE_FORMAT = TABLE.reason(
    "postal_code.format",
    InvalidInput,
    "郵便番号は7桁の数字です（例: 113-0033）。",
    "A postal code is 7 digits (e.g. 113-0033).",
    field="postal_code",
)

REQUEST_BAD_BASE64 = TABLE.reason(
    "request.bad_base64",
    InvalidInput,
    "{what_ja} が base64 ではありません。",
    "{what_en} is not base64.",
)

REQUEST_INVALID = TABLE.reason(
    "request.invalid",
    InvalidInput,
    "{field_name}: {what_ja}",
    "{field_name}: {what_en}",
)

REQUEST_TOO_DEEP = TABLE.reason(
    "request.too_deep",
    InvalidInput,
    "JSON の入れ子が深すぎます（{limit} 段まで）。",
    "The JSON is nested too deeply ({limit} levels at most).",
)

REQUEST_TOO_LARGE = TABLE.reason(
    "request.too_large",
    PayloadTooLarge,
    "送信されたデータが大きすぎます（{limit_kb} KB まで）。",
    "The submitted data is too large ({limit_kb} KB at most).",
)

SERVE_ONE_WORKER = TABLE.reason(
    "serve.one_worker",
    InvalidInput,
    "kojin up は1プロセスで動かします（情報提供ネットワークシステムと交換ログの書き手は一つです）。",
    "kojin up serves one process: the hub and its exchange log have a single writer.",
    field="workers",
)

STORE_WRITER_CLOSED = TABLE.reason(
    "store.writer_closed",
    WriterClosed,
    "書込みは停止しています。",
    "The store's writer has stopped.",
)

TO_INVALID = TABLE.reason(
    "to.invalid",
    InvalidInput,
    "日付「{value}」は存在しないか、YYYY-MM-DD の形ではありません。",
    "{value!r} is not a real date in YYYY-MM-DD form.",
    field="to",
)

DATE_INVALID_BY_FIELD = {
    "assignment_date": ASSIGNMENT_DATE_INVALID,
    "birth_date": BIRTH_DATE_INVALID,
    "effective_date": EFFECTIVE_DATE_INVALID,
    "period_of_stay_until": PERIOD_OF_STAY_UNTIL_INVALID,
    "from": FROM_INVALID,
    "to": TO_INVALID,
    "expires_on": EXPIRES_ON_INVALID,
}
