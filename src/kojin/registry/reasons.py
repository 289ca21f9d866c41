"""Reason codes of registry: 住民基本台帳 (the resident register).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound

TABLE = Table(
    "registry",
    "住民基本台帳 (the resident register)",
    prefixes=(
        "address",
        "assignment_date",
        "birth_date",
        "destination",
        "effective_date",
        "household",
        "kind",
        "municipality_code",
        "nationality",
        "period_of_stay",
        "postal_code",
        "query",
        "reason",
        "relationship",
        "residence_status",
        "resident",
        "sex",
    ),
    codes=("name.unchanged",),
)


ADDRESS_BLOCK_MISSING = TABLE.reason(
    "address.block_missing",
    InvalidInput,
    "番地（丁目・番・号）を入力してください。",
    "The block (丁目・番地・号) is required.",
    field="block",
)

ADDRESS_OTHER_MUNICIPALITY = TABLE.reason(
    "address.other_municipality",
    InvalidInput,
    "住所が{name}ではありません（{prefecture}{city}）。",
    "The address is not in {name}.",
    field="address",
)

ADDRESS_UNCHANGED = TABLE.reason(
    "address.unchanged",
    InvalidInput,
    "新しい住所が現住所と同じです。",
    "The new address is the same as the current one.",
    field="address",
)

ASSIGNMENT_DATE_FUTURE = TABLE.reason(
    "assignment_date.future",
    InvalidInput,
    "指定日が未来の日付です。",
    "The assignment date is in the future.",
    field="assignment_date",
)

BIRTH_DATE_FUTURE = TABLE.reason(
    "birth_date.future",
    InvalidInput,
    "生年月日が未来の日付です。",
    "The birth date is in the future.",
    field="birth_date",
)

BIRTH_DATE_TOO_OLD = TABLE.reason(
    "birth_date.too_old",
    InvalidInput,
    "生年月日が古すぎます。",
    "The birth date is implausibly old.",
    field="birth_date",
)

DESTINATION_EMPTY = TABLE.reason(
    "destination.empty",
    InvalidInput,
    "転出先を入力してください。",
    "The destination is required.",
    field="destination",
)

EFFECTIVE_DATE_BEFORE_BIRTH = TABLE.reason(
    "effective_date.before_birth",
    InvalidInput,
    "死亡日が生年月日より前です。",
    "The date of death is before the birth date.",
    field="effective_date",
)

EFFECTIVE_DATE_FUTURE = TABLE.reason(
    "effective_date.future",
    InvalidInput,
    "異動日が未来の日付です。",
    "The effective date is in the future.",
    field="effective_date",
)

HOUSEHOLD_NOT_FOUND = TABLE.reason(
    "household.not_found",
    NotFound,
    "世帯 {household_id} はありません。",
    "No household {household_id}.",
    field="household_id",
)

KIND_INVALID = TABLE.reason(
    "kind.invalid",
    InvalidInput,
    "種別が正しくありません（{choices} のいずれかです）。",
    "Unknown kind; one of {choices}.",
    field="kind",
)

MUNICIPALITY_CODE_CHECK_DIGIT = TABLE.reason(
    "municipality_code.check_digit",
    InvalidInput,
    "市区町村コードの検査数字が一致しません。",
    "The municipality code's check digit is wrong.",
    field="municipality_code",
)

MUNICIPALITY_CODE_UNKNOWN = TABLE.reason(
    "municipality_code.unknown",
    NotFound,
    "市区町村コード「{code}」はありません。",
    "Unknown municipality code {code!r}.",
    field="municipality_code",
)

NAME_UNCHANGED = TABLE.reason(
    "name.unchanged",
    InvalidInput,
    "新しい氏名が現在の氏名と同じです。",
    "The new name is the same as the current one.",
    field="name",
)

NATIONALITY_INVALID = TABLE.reason(
    "nationality.invalid",
    InvalidInput,
    "国籍は ISO 3166 の2文字コード（例: JP, CN, VN）で入力してください。",
    "Nationality is an ISO 3166 alpha-2 code (e.g. JP, CN, VN).",
    field="nationality",
)

PERIOD_OF_STAY_MISSING = TABLE.reason(
    "period_of_stay.missing",
    InvalidInput,
    "在留期間の満了日を入力してください。",
    "The period of stay's end date is required.",
    field="period_of_stay_until",
)

POSTAL_CODE_MISMATCH = TABLE.reason(
    "postal_code.mismatch",
    InvalidInput,
    "郵便番号 {code} は「{place}」の番号ではありません。",
    "Postal code {code} does not belong to {place}.",
    field="postal_code",
)

POSTAL_CODE_UNKNOWN = TABLE.reason(
    "postal_code.unknown",
    NotFound,
    "郵便番号 {code} は日本郵便のデータにありません。",
    "Postal code {code} is not in Japan Post's data.",
    field="postal_code",
)

QUERY_EMPTY = TABLE.reason(
    "query.empty",
    InvalidInput,
    "検索条件を指定してください。",
    "Give at least one search field.",
    field="query",
)

REASON_EMPTY = TABLE.reason(
    "reason.empty",
    InvalidInput,
    "変更の理由を入力してください。",
    "A reason is required.",
    field="reason",
)

RELATIONSHIP_HEAD_EXISTS = TABLE.reason(
    "relationship.head_exists",
    InvalidInput,
    "この世帯には既に世帯主がいます。",
    "This household already has a head.",
    field="relationship",
)

RELATIONSHIP_INVALID = TABLE.reason(
    "relationship.invalid",
    InvalidInput,
    "続柄は {relationships_ja} のいずれかです。",
    "Relationship must be one of {relationships}.",
    field="relationship",
)

RELATIONSHIP_NEEDS_HOUSEHOLD = TABLE.reason(
    "relationship.needs_household",
    InvalidInput,
    "世帯主以外は既存の世帯を指定してください。",
    "Only a head of household can start a new household.",
    field="household_id",
)

RESIDENCE_STATUS_INVALID = TABLE.reason(
    "residence_status.invalid",
    InvalidInput,
    "在留資格が正しくありません。",
    "Unknown residence status; one of: {residence_statuses}.",
    field="residence_status",
)

RESIDENCE_STATUS_NOT_APPLICABLE = TABLE.reason(
    "residence_status.not_applicable",
    InvalidInput,
    "日本国籍の人に在留資格はありません。",
    "Japanese nationals have no residence status.",
    field="residence_status",
)

RESIDENT_DECEASED = TABLE.reason(
    "resident.deceased",
    Conflict,
    "この住民は死亡により消除されています。",
    "This resident is recorded as deceased.",
    field="resident_id",
)

RESIDENT_DUPLICATE = TABLE.reason(
    "resident.duplicate",
    Conflict,
    "同じ基本4情報の住民が既に登録されています（住民ID {resident_id}）。",
    "A resident with the same four basic items is already registered (resident {resident_id}).",
    field="name",
)

RESIDENT_MOVED_OUT = TABLE.reason(
    "resident.moved_out",
    Conflict,
    "この住民は転出済みです。",
    "This resident has moved out.",
    field="resident_id",
)

RESIDENT_NOT_FOUND = TABLE.reason(
    "resident.not_found",
    NotFound,
    "住民ID {resident_id} は登録されていません。",
    "No resident with id {resident_id}.",
    field="resident_id",
)

SEX_INVALID = TABLE.reason(
    "sex.invalid",
    InvalidInput,
    "性別は 1（男）か 2（女）です。",
    "Sex is 1 (male) or 2 (female).",
    field="sex",
)
