"""Reason codes of numbering: 個人番号・法人番号の付番 (numbering).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound

TABLE = Table(
    "numbering", "個人番号・法人番号の付番 (numbering)", prefixes=("corporate_number", "juminhyo_code", "number")
)


CORPORATE_NUMBER_BATCH = TABLE.reason(
    "corporate_number.batch",
    InvalidInput,
    "法人番号は1件から{max_batch}件まで指定できます。",
    "Give 1 to {max_batch} corporate numbers.",
    field="corporate_number",
)

CORPORATE_NUMBER_BODY = TABLE.reason(
    "corporate_number.body",
    InvalidInput,
    "法人番号の基礎番号は12桁の数字です。",
    "The base of a corporate number is 12 digits.",
    field="corporate_number",
)

CORPORATE_NUMBER_CHECK_DIGIT = TABLE.reason(
    "corporate_number.check_digit",
    InvalidInput,
    "法人番号の検査用数字が一致しません。",
    "The corporate number's check digit is wrong.",
    field="corporate_number",
)

CORPORATE_NUMBER_FULLWIDTH = TABLE.reason(
    "corporate_number.fullwidth",
    InvalidInput,
    "{kind_ja}に全角数字が含まれています。半角数字で入力してください。",
    "The {kind_en} contains full-width digits; use ASCII digits.",
    field="corporate_number",
)

CORPORATE_NUMBER_LENGTH = TABLE.reason(
    "corporate_number.length",
    InvalidInput,
    "{kind_ja}は{length}桁です（入力は{given}桁）。",
    "The {kind_en} has {length} digits (got {given}).",
    field="corporate_number",
)

CORPORATE_NUMBER_NOT_DIGITS = TABLE.reason(
    "corporate_number.not_digits",
    InvalidInput,
    "{kind_ja}は数字だけで入力してください。",
    "The {kind_en} must contain digits only.",
    field="corporate_number",
)

JUMINHYO_CODE_ACTIVE_ELSEWHERE = TABLE.reason(
    "juminhyo_code.active_elsewhere",
    Conflict,
    "この住民票コードの人は転出届が済んでいません。",
    "The person with this code has not moved out of their current municipality.",
    field="juminhyo_code",
)

JUMINHYO_CODE_CARD_MISMATCH = TABLE.reason(
    "juminhyo_code.card_mismatch",
    Conflict,
    "読み取ったカードはこの住民票コードの人のものではありません（何も登録していません）。",
    "The card read is not that of the person with this resident record code (nothing was registered).",
    field="juminhyo_code",
)

JUMINHYO_CODE_CHECK_DIGIT = TABLE.reason(
    "juminhyo_code.check_digit",
    InvalidInput,
    "住民票コードの検査用数字が一致しません。",
    "The resident record code's check digit is wrong.",
    field="juminhyo_code",
)

JUMINHYO_CODE_FULLWIDTH = TABLE.reason(
    "juminhyo_code.fullwidth",
    InvalidInput,
    "{kind_ja}に全角数字が含まれています。半角数字で入力してください。",
    "The {kind_en} contains full-width digits; use ASCII digits.",
    field="juminhyo_code",
)

JUMINHYO_CODE_HOLDER_DECEASED = TABLE.reason(
    "juminhyo_code.holder_deceased",
    Conflict,
    "この住民票コードの人は死亡の届出がされています（何も登録していません）。",
    "The person with this resident record code is recorded as deceased (nothing was registered).",
    field="juminhyo_code",
)

JUMINHYO_CODE_LENGTH = TABLE.reason(
    "juminhyo_code.length",
    InvalidInput,
    "{kind_ja}は{length}桁です（入力は{given}桁）。",
    "The {kind_en} has {length} digits (got {given}).",
    field="juminhyo_code",
)

JUMINHYO_CODE_NOT_DIGITS = TABLE.reason(
    "juminhyo_code.not_digits",
    InvalidInput,
    "{kind_ja}は数字だけで入力してください。",
    "The {kind_en} must contain digits only.",
    field="juminhyo_code",
)

JUMINHYO_CODE_PERSON_MISMATCH = TABLE.reason(
    "juminhyo_code.person_mismatch",
    Conflict,
    "この住民票コードの最後の記録と{items_ja}が一致しません。別の人のコードではないか確かめてください（何も登録していません）。",
    "The {items_en} do not match the last record of this resident record code: check it is not another "
    "person's code (nothing was registered).",
    field="juminhyo_code",
)

JUMINHYO_CODE_UNKNOWN = TABLE.reason(
    "juminhyo_code.unknown",
    NotFound,
    "この住民票コードは J-LIS が発行したものではありません。転入ではコードを作れません（何も登録していません）。",
    "J-LIS never issued this resident record code; a move-in cannot create one (nothing was registered).",
    field="juminhyo_code",
)

NUMBER_BODY = TABLE.reason(
    "number.body",
    InvalidInput,
    "個人番号の本体は11桁の数字です。",
    "The body of an individual number is 11 digits.",
    field="number",
)

NUMBER_CHECK_DIGIT = TABLE.reason(
    "number.check_digit",
    InvalidInput,
    "個人番号の検査用数字が一致しません。",
    "The individual number's check digit is wrong.",
    field="number",
)

NUMBER_CONTENTION = TABLE.reason(
    "number.contention",
    Conflict,
    "番号の発行が競合しました。再試行してください。",
    "Number issuing contended with another writer; retry.",
)

NUMBER_DUPLICATE_REQUEST = TABLE.reason(
    "number.duplicate_request",
    Conflict,
    "同じ住民票コードが重複しています。",
    "The same resident record code appears twice.",
    field="juminhyo_code",
)

NUMBER_FULLWIDTH = TABLE.reason(
    "number.fullwidth",
    InvalidInput,
    "{kind_ja}に全角数字が含まれています。半角数字で入力してください。",
    "The {kind_en} contains full-width digits; use ASCII digits.",
    field="number",
)

NUMBER_LENGTH = TABLE.reason(
    "number.length",
    InvalidInput,
    "{kind_ja}は{length}桁です（入力は{given}桁）。",
    "The {kind_en} has {length} digits (got {given}).",
    field="number",
)

NUMBER_MISSING = TABLE.reason(
    "number.missing",
    InvalidInput,
    "標準入力から個人番号を読めません。",
    "No individual number on standard input.",
    field="number",
)

LINK_UNKNOWN = TABLE.reason(
    "number.link_unknown",
    NotFound,
    "この連携用符号はJ-LISの記録にありません（符号の取得からやり直してください）。",
    "J-LIS has no record of this link id (obtain the code again).",
    field="link_id",
)

NUMBER_NOT_ASSIGNED = TABLE.reason(
    "number.not_assigned",
    NotFound,
    "この住民票コードに個人番号はありません。",
    "No individual number is assigned to this resident record code.",
    field="juminhyo_code",
)

NUMBER_NOT_DIGITS = TABLE.reason(
    "number.not_digits",
    InvalidInput,
    "{kind_ja}は数字だけで入力してください。",
    "The {kind_en} must contain digits only.",
    field="number",
)

NUMBER_PERSON_MISMATCH = TABLE.reason(
    "number.person_mismatch",
    Conflict,
    "この個人番号の本人と{items_ja}が一致しません。家族など別の人の番号ではないか確かめてください（機関別符号は発行していません）。",
    "The {items_en} do not match the holder of this individual number: check it is not a family member's "
    "or another person's number (no code was issued).",
    field="number",
)

NUMBER_RETIRED = TABLE.reason(
    "number.retired",
    Conflict,
    "その個人番号は変更により使用できません。",
    "That individual number was retired by a number change.",
    field="number",
)

NUMBER_UNKNOWN = TABLE.reason(
    "number.unknown",
    NotFound,
    "その個人番号は発行されていません。",
    "That individual number has not been issued.",
    field="number",
)

FULLWIDTH_BY_FIELD = {
    "number": NUMBER_FULLWIDTH,
    "corporate_number": CORPORATE_NUMBER_FULLWIDTH,
    "juminhyo_code": JUMINHYO_CODE_FULLWIDTH,
}

LENGTH_BY_FIELD = {
    "number": NUMBER_LENGTH,
    "corporate_number": CORPORATE_NUMBER_LENGTH,
    "juminhyo_code": JUMINHYO_CODE_LENGTH,
}

NOT_DIGITS_BY_FIELD = {
    "number": NUMBER_NOT_DIGITS,
    "corporate_number": CORPORATE_NUMBER_NOT_DIGITS,
    "juminhyo_code": JUMINHYO_CODE_NOT_DIGITS,
}
