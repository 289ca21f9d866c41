"""Reason codes of pki: 公的個人認証 (certificates, revocation, relying parties).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated

TABLE = Table("pki", "公的個人認証 (certificates, revocation, relying parties)", prefixes=("pki", "rp"))


ALREADY_LINKED = TABLE.reason(
    "pki.already_linked",
    Conflict,
    "この電子証明書はすでに紐付けられています。",
    "This certificate is already linked.",
)

ALREADY_REVOKED = TABLE.reason(
    "pki.already_revoked",
    Conflict,
    "この電子証明書はすでに失効しています。",
    "This certificate is already revoked.",
    field="serial",
)

BAD_ALGORITHM = TABLE.reason(
    "pki.bad_algorithm",
    InvalidInput,
    "鍵の方式は rsa2048 か p256 です。",
    "The key algorithm is rsa2048 or p256.",
    field="algorithm",
)

BAD_BIRTH_DATE = TABLE.reason(
    "pki.bad_birth_date",
    InvalidInput,
    "生年月日が明治より前です。",
    "The birth date is before the Meiji era.",
    field="birth_date",
)

BAD_KIND = TABLE.reason(
    "pki.bad_kind",
    InvalidInput,
    "証明書の種類は sign、auth、staff のいずれかです。",
    "The certificate kind is sign, auth or staff.",
    field="kind",
)

BAD_ORGANISATION = TABLE.reason(
    "pki.bad_organisation",
    InvalidInput,
    "職員認証局の組織「{value}」は正しくありません（例：municipality:131016、jlis）。",
    "{value!r} is not an organisation a staff CA can be made for (e.g. municipality:131016, jlis).",
    field="organisation",
)

BAD_PUBLIC_KEY = TABLE.reason(
    "pki.bad_public_key",
    InvalidInput,
    "公開鍵が読めないか、対応していない方式です。",
    "The public key is unreadable or of an unsupported type (RSA 2048–4096, EC P-256/P-384).",
    field="public_key",
)

BAD_REASON = TABLE.reason(
    "pki.bad_reason",
    InvalidInput,
    "失効理由が正しくありません。",
    "Unknown revocation reason; one of: {choices}.",
    field="reason",
)

BAD_SECRET_FORMAT = TABLE.reason(
    "pki.bad_secret_format",
    InvalidInput,
    "{label_ja}は{rule_ja}です。",
    "The {label_en} is {rule_en}.",
    field="secret",
)

BAD_SERIAL = TABLE.reason(
    "pki.bad_serial",
    InvalidInput,
    "シリアル番号が正しくありません。",
    "The serial number is out of range.",
    field="serial",
)

BAD_SEX = TABLE.reason(
    "pki.bad_sex",
    InvalidInput,
    "性別は 1（男）か 2（女）です。",
    "Sex is 1 (male) or 2 (female).",
    field="sex",
)

BAD_SIGNATURE = TABLE.reason(
    "pki.bad_signature",
    Unauthenticated,
    "{what_ja}の署名が正しくありません。",
    "{signer_en}'s signature on {what_en} does not verify.",
    field="certificate",
)

BAD_STAFF_ID = TABLE.reason(
    "pki.bad_staff_id",
    InvalidInput,
    "職員IDは英小文字・数字・「_.-」の1〜40文字です。",
    "A staff id is 1 to 40 lower-case letters, digits or _.-.",
    field="staff_id",
)

BIRTH_AFTER_ISSUE = TABLE.reason(
    "pki.birth_after_issue",
    InvalidInput,
    "生年月日が発行日より後です。",
    "The birth date is after the day of issue.",
    field="birth_date",
)

CONTROL_IN_ADDRESS = TABLE.reason(
    "pki.control_in_address",
    InvalidInput,
    "{label}に制御文字があります。",
    "The address contains control characters.",
    field="address",
)

CONTROL_IN_NAME = TABLE.reason(
    "pki.control_in_name",
    InvalidInput,
    "{label}に制御文字があります。",
    "The name contains control characters.",
    field="name",
)

EMPTY_ADDRESS = TABLE.reason(
    "pki.empty_address",
    InvalidInput,
    "{label}が空です。",
    "The address is empty.",
    field="address",
)

EMPTY_NAME = TABLE.reason(
    "pki.empty_name",
    InvalidInput,
    "{label}が空です。",
    "The name is empty.",
    field="name",
)

EXPIRED = TABLE.reason(
    "pki.expired",
    Unauthenticated,
    "電子証明書の有効期限が切れています。",
    "The certificate has expired.",
)

FOREIGN_CA = TABLE.reason(
    "pki.foreign_ca",
    Unauthenticated,
    "この電子証明書は公的個人認証サービスの認証局が発行したものではありません。",
    "The certificate was not issued by one of our CAs.",
    field="certificate",
)

LINK_CYCLE = TABLE.reason(
    "pki.link_cycle",
    Conflict,
    "この紐付けは循環になります。",
    "This link would make a cycle.",
    field="new_serial",
)

LINK_MISMATCH = TABLE.reason(
    "pki.link_mismatch",
    NotPermitted,
    "別の人または別の種類の電子証明書とは紐付けできません。",
    "Only certificates of the same person and kind can be linked.",
    field="new_serial",
)

LINK_TO_SELF = TABLE.reason(
    "pki.link_to_self",
    InvalidInput,
    "同じ電子証明書どうしは紐付けできません。",
    "A certificate cannot be linked to itself.",
    field="new_serial",
)

LONG_ADDRESS = TABLE.reason(
    "pki.long_address",
    InvalidInput,
    "{label}が長すぎます（{limit}文字まで）。",
    "The address is too long ({limit} characters at most).",
    field="address",
)

LONG_NAME = TABLE.reason(
    "pki.long_name",
    InvalidInput,
    "{label}が長すぎます（{limit}文字まで）。",
    "The name is too long ({limit} characters at most).",
    field="name",
)

MALFORMED = TABLE.reason(
    "pki.malformed",
    InvalidInput,
    "電子証明書の形式が正しくありません。",
    "The certificate is malformed: {detail}.",
    field="certificate",
)

NOT_YET_VALID = TABLE.reason(
    "pki.not_yet_valid",
    Unauthenticated,
    "電子証明書の有効期間がまだ始まっていません。",
    "The certificate is not valid yet.",
)

OCSP_INVALID = TABLE.reason(
    "pki.ocsp_invalid",
    Unauthenticated,
    "OCSP応答が正しくありません。",
    "The OCSP response is not acceptable: {detail}.",
    field="certificate",
)

REVOCATION_UNAVAILABLE = TABLE.reason(
    "pki.revocation_unavailable",
    Unauthenticated,
    "失効情報を確認できません。",
    "The revocation status could not be checked: {detail}.",
    field="certificate",
)

REVOCATION_UNKNOWN = TABLE.reason(
    "pki.revocation_unknown",
    Unauthenticated,
    "この電子証明書の失効情報がありません。",
    "The OCSP responder does not know this certificate.",
    field="certificate",
)

REVOKED = TABLE.reason(
    "pki.revoked",
    Unauthenticated,
    "この電子証明書は失効しています。",
    "The certificate has been revoked.",
    field="certificate",
)

SIGNATURE_UNDER_15 = TABLE.reason(
    "pki.signature_under_15",
    NotPermitted,
    "15歳未満の方には署名用電子証明書を発行できません。",
    "A signature certificate is not issued to a person under 15.",
    field="birth_date",
)

UNKNOWN_CA = TABLE.reason(
    "pki.unknown_ca",
    NotFound,
    "認証局「{name}」はありません。",
    "There is no CA named {name!r}; one of {ca_names}.",
    field="ca",
)

UNKNOWN_SERIAL = TABLE.reason(
    "pki.unknown_serial",
    NotFound,
    "そのシリアル番号の電子証明書はありません。",
    "No certificate has that serial number.",
    field="serial",
)

WRONG_KIND = TABLE.reason(
    "pki.wrong_kind",
    NotPermitted,
    "{label_ja}ではありません。",
    "This is not a {label_en}.",
    field="certificate",
)

RP_BAD_ID = TABLE.reason(
    "rp.bad_id",
    InvalidInput,
    "検証者IDは英小文字・数字・記号 ._- で2〜64文字です。",
    "A relying-party id is 2–64 of a–z 0–9 . _ -.",
    field="rp_id",
)

RP_EXISTS = TABLE.reason(
    "rp.exists",
    Conflict,
    "この検証者は登録済みです。",
    "This relying party is already registered.",
    field="rp_id",
)

RP_NOT_REGISTERED = TABLE.reason(
    "rp.not_registered",
    NotPermitted,
    "この検証者は J-LIS に登録されていないため、利用者を特定できません。",
    "This relying party is not registered with J-LIS and may not resolve serials.",
    field="rp_id",
)

CONTROL_IN_BY_FIELD = {
    "name": CONTROL_IN_NAME,
    "address": CONTROL_IN_ADDRESS,
}

EMPTY_BY_FIELD = {
    "name": EMPTY_NAME,
    "address": EMPTY_ADDRESS,
}

LONG_BY_FIELD = {
    "name": LONG_NAME,
    "address": LONG_ADDRESS,
}
