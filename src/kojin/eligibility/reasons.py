"""Reason codes of eligibility: オンライン資格確認 (online eligibility and insurers).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted, Unauthenticated

TABLE = Table(
    "eligibility", "オンライン資格確認 (online eligibility and insurers)", prefixes=("eligibility", "insurer")
)


BAD_BRANCH = TABLE.reason(
    "eligibility.bad_branch",
    InvalidInput,
    "枝番は2桁の数字です。",
    "The branch is two digits.",
    field="branch",
)

BAD_CLINIC_ID = TABLE.reason(
    "eligibility.bad_clinic_id",
    InvalidInput,
    "医療機関コードは10桁の数字です。",
    "A clinic code is 10 digits.",
    field="clinic_id",
)

BAD_CLINIC_KIND = TABLE.reason(
    "eligibility.bad_clinic_kind",
    InvalidInput,
    "種別は clinic, hospital, pharmacy のいずれかです。",
    "kind is clinic, hospital or pharmacy.",
    field="kind",
)

BAD_CLINIC_NAME = TABLE.reason(
    "eligibility.bad_clinic_name",
    InvalidInput,
    "医療機関名は200文字以内です。",
    "A clinic name is 1–200 characters.",
    field="name",
)

BAD_INSURER_NUMBER = TABLE.reason(
    "eligibility.bad_insurer_number",
    InvalidInput,
    "保険者番号は6桁または8桁の数字です。",
    "An insurer number is 6 or 8 digits.",
    field="insurer_number",
)

BAD_NUMBER = TABLE.reason(
    "eligibility.bad_number",
    InvalidInput,
    "番号が正しくありません。",
    "The number is malformed.",
    field="number",
)

BAD_SYMBOL = TABLE.reason(
    "eligibility.bad_symbol",
    InvalidInput,
    "記号が正しくありません。",
    "The symbol is malformed.",
    field="symbol",
)

CERTIFICATE_EXPIRED = TABLE.reason(
    "eligibility.certificate_expired",
    Conflict,
    "この資格確認書は有効期限（{until}）を過ぎています。保険者にお問い合わせください。",
    "This eligibility certificate expired on {until}; ask the insurer.",
    field="number",
)

CERTIFICATE_UNKNOWN = TABLE.reason(
    "eligibility.certificate_unknown",
    NotFound,
    "記号・番号・枝番に該当する資格がありません。",
    "No qualification matches this symbol, number and branch.",
    field="number",
)

CLINIC_EXISTS = TABLE.reason(
    "eligibility.clinic_exists",
    Conflict,
    "この医療機関は登録済みです。",
    "This clinic is already registered.",
    field="clinic_id",
)

CLINIC_UNAUTHENTICATED = TABLE.reason(
    "eligibility.clinic_unauthenticated",
    Unauthenticated,
    "医療機関の認証に失敗しました。",
    "The clinic could not be authenticated.",
    field="clinic_key",
)

NO_CERTIFICATE = TABLE.reason(
    "eligibility.no_certificate",
    NotFound,
    "この資格には資格確認書が交付されていません。マイナ保険証をお使いください。",
    "No eligibility certificate was issued for this qualification; use the card.",
    field="number",
)

NO_QUALIFICATION = TABLE.reason(
    "eligibility.no_qualification",
    NotFound,
    "医療保険の資格情報がありません。",
    "No health-insurance qualification is recorded.",
    field="card",
)

NO_SUBJECT = TABLE.reason(
    "eligibility.no_subject",
    KojinError,
    "利用者を特定できません。",
    "The person cannot be resolved.",
)

LINK_DISPUTED = TABLE.reason(
    "eligibility.link_disputed",
    NotPermitted,
    "この方の保険資格のひも付けについて本人から誤りの申し出があり、確認が終わるまでカードでの資格確認はできません。"
    "資格確認書または資格情報のお知らせで確認してください。",
    "The person disputed a health-insurance link tied to this card: until it is checked the card cannot be "
    "used for eligibility. Check with the 資格確認書 (eligibility certificate) or the 資格情報のお知らせ instead.",
    field="card",
)

NOT_REGISTERED = TABLE.reason(
    "eligibility.not_registered",
    NotPermitted,
    "このカードは健康保険証として利用登録されていません（登録が解除されています）。資格確認書をお使いください。",
    "This card is not registered for health insurance (the registration was cancelled): use the 資格確認書 "
    "(eligibility certificate).",
    field="card",
)

UNKNOWN_CLINIC = TABLE.reason(
    "eligibility.unknown_clinic",
    NotFound,
    "この医療機関は登録されていません。",
    "This clinic is not registered.",
    field="clinic_id",
)

UNKNOWN_INSURER = TABLE.reason(
    "eligibility.unknown_insurer",
    NotFound,
    "この保険者はオンライン資格確認に登録されていません{detail_ja}。",
    "No such insurer takes part in online eligibility{detail_en}.",
    field="insurer_id",
)

VISIT_EXPIRED = TABLE.reason(
    "eligibility.visit_expired",
    Conflict,
    "この受診の有効期間（24時間）は終了しました。もう一度カードで確認してください。",
    "This visit has ended (24 hours); check the card again.",
    field="visit_id",
)

VISIT_UNKNOWN = TABLE.reason(
    "eligibility.visit_unknown",
    NotFound,
    "この受診はありません。",
    "No such visit.",
    field="visit_id",
)

INSURER_NO_JLIS = TABLE.reason(
    "insurer.no_jlis",
    Conflict,
    "この保険者はJ-LISにつながっていないため、資格情報のお知らせを作れません。",
    "This insurer is not connected to J-LIS, so it cannot make the notice of insurance details.",
)

INSURER_NO_CERTIFICATE = TABLE.reason(
    "insurer.no_certificate",
    NotFound,
    "資格確認書は交付されていません。",
    "No eligibility certificate has been issued.",
    field="card",
)

INSURER_QUALIFICATION_LOST = TABLE.reason(
    "insurer.qualification_lost",
    Conflict,
    "資格を喪失した方には交付できません。",
    "The member has lost the qualification.",
    field="local_id",
)

INSURER_UNKNOWN_MEMBER = TABLE.reason(
    "insurer.unknown_member",
    NotFound,
    "この被保険者はいません。",
    "No such member.",
    field="local_id",
)
