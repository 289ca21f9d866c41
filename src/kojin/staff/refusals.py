"""Every refusal of the staff party, with its reason code and its words, in one place.

Each function returns the error to raise (``raise refusals.wrong_role(...)``), so
the codes and their messages are written once and the modules that raise them
stay short. Authentication failures are 401, scope failures 403, bad input 422.
"""

from __future__ import annotations

from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated


def invalid_staff_id(value: object) -> InvalidInput:
    return InvalidInput(
        "staff.invalid_staff_id",
        f"職員IDは英小文字・数字・「_.-」の1〜40文字です（{value!r}）。",
        f"A staff id is 1 to 40 lower-case letters, digits or _.- ({value!r}).",
        field="staff_id",
    )


def invalid_name() -> InvalidInput:
    return InvalidInput(
        "staff.invalid_name",
        "職員の表示名は1〜100文字です。",
        "A staff member's display name is 1 to 100 characters.",
        field="display_name",
    )


def invalid_role(value: object) -> InvalidInput:
    return InvalidInput(
        "staff.invalid_role", f"役割「{value}」はありません。", f"There is no role {value!r}.", field="role"
    )


def invalid_organisation(value: object) -> InvalidInput:
    return InvalidInput(
        "staff.invalid_organisation",
        f"組織「{value}」は正しくありません（例：municipality:131016、jlis、agency:nenkin）。",
        f"{value!r} is not an organisation (e.g. municipality:131016, jlis, agency:nenkin).",
        field="organisation",
    )


def role_not_for_organisation(role: str, organisation: str) -> InvalidInput:
    return InvalidInput(
        "staff.role_not_for_organisation",
        f"組織 {organisation} の職員は役割 {role} を持てません。",
        f"Staff of {organisation} cannot hold the role {role}.",
        field="role",
    )


def invalid_card_serial() -> InvalidInput:
    return InvalidInput(
        "staff.invalid_card_serial",
        "職員カードのシリアル番号は1〜40文字の英数字です。",
        "A staff card serial is 1 to 40 letters or digits.",
        field="card_serial",
    )


def staff_exists(staff_id: str) -> Conflict:
    return Conflict(
        "staff.exists",
        f"職員 {staff_id} は登録済みです。",
        f"Staff member {staff_id} already exists.",
        field="staff_id",
    )


def unknown_staff(staff_id: str) -> NotFound:
    return NotFound(
        "staff.unknown", f"職員 {staff_id} はいません。", f"There is no staff member {staff_id}.", field="staff_id"
    )


def inactive(staff_id: str) -> NotPermitted:
    return NotPermitted(
        "staff.inactive",
        f"職員 {staff_id} は利用停止中です。",
        f"Staff member {staff_id} is not active.",
        field="staff_id",
    )


def token_missing() -> Unauthenticated:
    return Unauthenticated(
        "staff.token_missing", "職員のアクセストークンが必要です。", "A staff access token is required.", field="token"
    )


def token_malformed() -> Unauthenticated:
    return Unauthenticated(
        "staff.token_malformed",
        "アクセストークンの形式が正しくありません。",
        "The access token is not a well-formed staff token.",
        field="token",
    )


def token_bad_signature() -> Unauthenticated:
    return Unauthenticated(
        "staff.token_bad_signature",
        "アクセストークンの署名を検証できません。",
        "The access token's signature does not verify with the staff party's key.",
        field="token",
    )


def token_expired() -> Unauthenticated:
    return Unauthenticated(
        "staff.token_expired",
        "アクセストークンの有効期限が切れています。ログインし直してください。",
        "The access token has expired; log in again.",
        field="token",
    )


def token_revoked() -> Unauthenticated:
    return Unauthenticated(
        "staff.token_revoked",
        "このアクセストークンはログアウト済みです。",
        "The access token was revoked (logged out).",
        field="token",
    )


def wrong_role(needed: str, held: str) -> NotPermitted:
    return NotPermitted(
        "staff.wrong_role",
        f"この操作には役割 {needed} が必要です（あなたの役割：{held}）。",
        f"This needs the role {needed} (you hold {held}).",
    )


def other_organisation(organisation: str) -> NotPermitted:
    return NotPermitted(
        "staff.other_organisation",
        f"組織 {organisation} の情報には触れられません。",
        f"You may not act for {organisation}.",
        field="organisation",
    )


def purpose_required() -> InvalidInput:
    return InvalidInput(
        "staff.purpose_required",
        "個人の情報を見るには事務（利用目的）を選んでください。",
        "Reading a person's information needs a purpose (事務).",
        field="purpose",
    )


def unknown_purpose(value: str) -> InvalidInput:
    return InvalidInput(
        "staff.unknown_purpose",
        f"事務「{value}」は利用目的の一覧にありません。",
        f"{value!r} is not one of the listed purposes (事務).",
        field="purpose",
    )


def invalid_access(value: object) -> InvalidInput:
    return InvalidInput(
        "staff.invalid_access",
        f"アクセスの種類「{value}」はありません（read, search, export, write）。",
        f"{value!r} is not a kind of access (read, search, export, write).",
        field="what",
    )


def invalid_person_key() -> InvalidInput:
    return InvalidInput(
        "staff.invalid_person_key",
        "本人を示すキーは1〜64文字です。",
        "A person key is 1 to 64 characters.",
        field="person_key",
    )


def invalid_count() -> InvalidInput:
    return InvalidInput(
        "staff.invalid_count", "表示件数は1以上です。", "The number of people shown is at least 1.", field="count"
    )


def invalid_bulk(what: str, what_en: str, field: str) -> InvalidInput:
    return InvalidInput(
        "staff.invalid_bulk", f"{what}が正しくありません。", f"The {what_en} is not valid.", field=field
    )


def two_person_rule(limit: int) -> NotPermitted:
    return NotPermitted(
        "staff.two_person_rule",
        f"{limit}人を超える一覧・出力には、同じ組織の別の監督者の承認が必要です。",
        f"Listing or exporting more than {limit} people needs the approval of another supervisor"
        " of the same organisation.",
        field="approval",
    )


def unknown_bulk(bulk_id: int) -> NotFound:
    return NotFound(
        "staff.unknown_bulk", f"一括出力の申請 {bulk_id} はありません。", f"There is no bulk request {bulk_id}."
    )


def bulk_not_pending(bulk_id: int, status: str) -> Conflict:
    return Conflict(
        "staff.bulk_not_pending",
        f"一括出力の申請 {bulk_id} は承認待ちではありません（{status}）。",
        f"Bulk request {bulk_id} is not pending ({status}).",
    )
