"""Reason codes of staff: 職員 (staff identities, roles, tokens and the access log).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, TooManyRequests, Unauthenticated

TABLE = Table("staff", "職員 (staff identities, roles, tokens and the access log)", prefixes=("staff",))

BAD_TOKEN_REQUEST = TABLE.reason(
    "staff.bad_token_request",
    InvalidInput,
    "トークン要求の「{name}」がないか、正しくありません。",
    "The token request's {name!r} is missing or not valid.",
)

BULK_NOT_PENDING = TABLE.reason(
    "staff.bulk_not_pending",
    Conflict,
    "一括出力の申請 {bulk_id} は承認待ちではありません（{status}）。",
    "Bulk request {bulk_id} is not pending ({status}).",
)

BULK_USED = TABLE.reason(
    "staff.bulk_used",
    Conflict,
    "一括出力の申請 {bulk_id} による出力は済んでいます（承認1件につき出力1回）。新たに申請してください。",
    "Bulk request {bulk_id} has already been exported (one export per approval); request again.",
    field="bulk_id",
)

CARD_IN_USE = TABLE.reason(
    "staff.card_in_use",
    Conflict,
    "この職員カードは別の職員に登録されています。",
    "This staff card is recorded for another staff member.",
    field="card_serial",
)

CARD_OTHER_ORGANISATION = TABLE.reason(
    "staff.card_other_organisation",
    Unauthenticated,
    "この職員カードは {card_org} の職員認証局が発行したものですが、職員 {staff_id} の所属は {organisation} です。",
    "This staff card was issued by the staff CA of {card_org}, but staff member {staff_id} belongs to {organisation}.",
    field="certificate",
)

CERTIFICATE_EXPIRED = TABLE.reason(
    "staff.certificate_expired",
    Unauthenticated,
    "職員カードの電子証明書の有効期限が切れています。カードの更新を受けてください。",
    "The staff card's certificate has expired; have the card renewed.",
    field="certificate",
)

CERTIFICATE_REVOKED = TABLE.reason(
    "staff.certificate_revoked",
    Unauthenticated,
    "職員カードの電子証明書は失効しています。",
    "The staff card's certificate has been revoked.",
    field="certificate",
)

CHALLENGE_REPLAYED = TABLE.reason(
    "staff.challenge_replayed",
    Unauthenticated,
    "このチャレンジは既に使われています。もう一度ログインしてください。",
    "This challenge was already used; log in again.",
    field="challenge",
)

EXISTS = TABLE.reason(
    "staff.exists",
    Conflict,
    "職員 {staff_id} は登録済みです。",
    "Staff member {staff_id} already exists.",
    field="staff_id",
)

INACTIVE = TABLE.reason(
    "staff.inactive",
    NotPermitted,
    "職員 {staff_id} は利用停止中です。",
    "Staff member {staff_id} is not active.",
    field="staff_id",
)

INVALID_ACCESS = TABLE.reason(
    "staff.invalid_access",
    InvalidInput,
    "アクセスの種類「{value}」はありません（read, search, export, write）。",
    "{value!r} is not a kind of access (read, search, export, write).",
    field="what",
)

INVALID_BULK = TABLE.reason(
    "staff.invalid_bulk",
    InvalidInput,
    "{what}が正しくありません。",
    "The {what_en} is not valid.",
)

INVALID_CARD_SERIAL = TABLE.reason(
    "staff.invalid_card_serial",
    InvalidInput,
    "職員カードのシリアル番号は1〜40文字の英数字です。",
    "A staff card serial is 1 to 40 letters or digits.",
    field="card_serial",
)

INVALID_COUNT = TABLE.reason(
    "staff.invalid_count",
    InvalidInput,
    "表示件数は1以上です。",
    "The number of people shown is at least 1.",
    field="count",
)

INVALID_NAME = TABLE.reason(
    "staff.invalid_name",
    InvalidInput,
    "職員の表示名は1〜100文字です。",
    "A staff member's display name is 1 to 100 characters.",
    field="display_name",
)

INVALID_ORGANISATION = TABLE.reason(
    "staff.invalid_organisation",
    InvalidInput,
    "組織「{value}」は正しくありません（例：municipality:131016、jlis、agency:nenkin）。",
    "{value!r} is not an organisation (e.g. municipality:131016, jlis, agency:nenkin).",
    field="organisation",
)

INVALID_PERSON_KEY = TABLE.reason(
    "staff.invalid_person_key",
    InvalidInput,
    "本人を示すキーは1〜64文字です。",
    "A person key is 1 to 64 characters.",
    field="person_key",
)

INVALID_ROLE = TABLE.reason(
    "staff.invalid_role",
    InvalidInput,
    "役割「{value}」はありません。",
    "There is no role {value!r}.",
    field="role",
)

INVALID_STAFF_ID = TABLE.reason(
    "staff.invalid_staff_id",
    InvalidInput,
    "職員IDは英小文字・数字・「_.-」の1〜40文字です（{value!r}）。",
    "A staff id is 1 to 40 lower-case letters, digits or _.- ({value!r}).",
    field="staff_id",
)

LOCAL_ONLY = TABLE.reason(
    "staff.local_only",
    NotPermitted,
    "端末管理者はこの端末のコマンドでだけ操作できます（トークンは発行しません）。",
    "The local administrator acts only through this machine's commands (no token is issued).",
)

LOGIN_RESTART = TABLE.reason(
    "staff.login_restart",
    Unauthenticated,
    "ログインの手続きが見つからないか、期限が切れています。最初からやり直してください。",
    "There is no login waiting for this answer (or it expired); start again.",
    field="challenge",
)

NOTHING_TO_EXPORT = TABLE.reason(
    "staff.nothing_to_export",
    Conflict,
    "出力する人がいません。承認は使われずに残ります。",
    "There is no one to export; the approval stays unused.",
)

NOT_IN_SCOPE = TABLE.reason(
    "staff.not_in_scope",
    NotPermitted,
    "この人はあなたの組織の担当ではありません（または登録がありません）。",
    "This person is not in your organisation's care (or is not registered).",
)

NOT_STAFF_CARD = TABLE.reason(
    "staff.not_staff_card",
    Unauthenticated,
    "このカードは職員カードではありません（職員認証用電子証明書がありません）。",
    "This card is not a staff card (it holds no staff authentication certificate).",
    field="certificate",
)

NO_CARD = TABLE.reason(
    "staff.no_card",
    Conflict,
    "職員 {staff_id} には職員カードがありません。",
    "Staff member {staff_id} holds no staff card.",
    field="staff_id",
)

OPERATOR_KEY_OPEN = TABLE.reason(
    "staff.operator_key_open",
    NotPermitted,
    "操作者の鍵ファイル {path} が本人以外にも読めます（chmod 600 にしてください）。",
    "The operator key file {path} can be read by others (chmod 600 it).",
    field="operator",
)

OPERATOR_KEY_REPLACED = TABLE.reason(
    "staff.operator_key_replaced",
    Unauthenticated,
    "操作者 {staff_id} の鍵ファイルは無効です（新しい鍵に置き換えられています）。",
    "The key file of operator {staff_id} is no longer valid (a newer key replaced it).",
    field="operator",
)

OPERATOR_KEY_UNREADABLE = TABLE.reason(
    "staff.operator_key_unreadable",
    Unauthenticated,
    "操作者の鍵ファイル {path} を読めません。`kojin staff operator-key` で作ってください。",
    "The operator key file {path} cannot be read; make one with `kojin staff operator-key`.",
    field="operator",
)

OPERATOR_UNKNOWN = TABLE.reason(
    "staff.operator_unknown",
    Unauthenticated,
    "操作者 {staff_id} の鍵は登録されていません。",
    "No key is registered for operator {staff_id}.",
    field="operator",
)

OTHER_ORGANISATION = TABLE.reason(
    "staff.other_organisation",
    NotPermitted,
    "組織 {organisation} の情報には触れられません。",
    "You may not act for {organisation}.",
    field="organisation",
)

PURPOSE_REQUIRED = TABLE.reason(
    "staff.purpose_required",
    InvalidInput,
    "個人の情報を見るには事務（利用目的）を選んでください。",
    "Reading a person's information needs a purpose (事務).",
    field="purpose",
)

RATE_LIMITED = TABLE.reason(
    "staff.rate_limited",
    TooManyRequests,
    "一括出力の申請は1時間に{limit}件までです。しばらくしてから申請してください。",
    "At most {limit} bulk requests an hour per staff member; try again later.",
)

SEARCH_LIMIT = TABLE.reason(
    "staff.search_limit",
    TooManyRequests,
    "一覧・検索で表示できるのは1時間に{limit}人までです（承認された一括出力の申請があれば別です）。",
    "A list or search may show a staff member at most {limit} people an hour (outside an approved bulk request).",
)

RECIPIENT_CERTIFICATE_EXPIRED = TABLE.reason(
    "staff.recipient_certificate_expired",
    InvalidInput,
    "受取人の証明書は有効期間外です（{not_before}〜{not_after}）。",
    "The recipient's certificate is not valid now (valid {not_before} to {not_after}).",
    field="certificate_pem",
)

RECIPIENT_CERTIFICATE_INVALID = TABLE.reason(
    "staff.recipient_certificate_invalid",
    InvalidInput,
    "受取人の証明書はPEM形式のX.509証明書1通でなければなりません。",
    "The recipient's certificate must be one X.509 certificate in PEM form.",
    field="certificate_pem",
)

RECIPIENT_CERTIFICATE_KEY = TABLE.reason(
    "staff.recipient_certificate_key",
    InvalidInput,
    "受取人の証明書の鍵は2048ビット以上のRSA鍵でなければなりません（{key}）。",
    "The recipient's certificate must carry an RSA key of at least 2048 bits ({key}).",
    field="certificate_pem",
)

RECIPIENT_EXISTS = TABLE.reason(
    "staff.recipient_exists",
    Conflict,
    "受取人 {name} は登録済みです。",
    "Recipient {name} is already registered.",
    field="name",
)

ROLE_NOT_FOR_ORGANISATION = TABLE.reason(
    "staff.role_not_for_organisation",
    InvalidInput,
    "組織 {organisation} の職員は役割 {role} を持てません。",
    "Staff of {organisation} cannot hold the role {role}.",
    field="role",
)

SESSION_ENDED = TABLE.reason(
    "staff.session_ended",
    Unauthenticated,
    "職員のログインは終了しました（ログアウト、カードの取り出し、またはカードの失効）。もう一度ログインしてください。",
    "The staff session has ended (logout, card removed or card revoked); log in again.",
    field="session",
)

SESSION_MISSING = TABLE.reason(
    "staff.session_missing",
    Unauthenticated,
    "職員としてログインしてください。",
    "Log in as staff first.",
    field="session",
)

SESSION_TIMEOUT = TABLE.reason(
    "staff.session_timeout",
    Unauthenticated,
    "一定時間操作がなかったか、ログインから時間が経ちすぎたため、ログインを終了しました。",
    "The staff session timed out (idle too long, or open too long).",
    field="session",
)

TOKEN_BAD_SIGNATURE = TABLE.reason(
    "staff.token_bad_signature",
    Unauthenticated,
    "アクセストークンの署名を検証できません。",
    "The access token's signature does not verify with the staff party's key.",
    field="token",
)

TOKEN_CARD_REVOKED = TABLE.reason(
    "staff.token_card_revoked",
    Unauthenticated,
    "このアクセストークンを発行した職員カードは、もう使えません（失効または交換）。",
    "The staff card this access token was issued for is no longer the member's card (revoked or replaced).",
    field="token",
)

TOKEN_EXPIRED = TABLE.reason(
    "staff.token_expired",
    Unauthenticated,
    "アクセストークンの有効期限が切れています。ログインし直してください。",
    "The access token has expired; log in again.",
    field="token",
)

TOKEN_MALFORMED = TABLE.reason(
    "staff.token_malformed",
    Unauthenticated,
    "アクセストークンの形式が正しくありません。",
    "The access token is not a well-formed staff token.",
    field="token",
)

TOKEN_MISSING = TABLE.reason(
    "staff.token_missing",
    Unauthenticated,
    "職員のアクセストークンが必要です。",
    "A staff access token is required.",
    field="token",
)

TOKEN_REVOKED = TABLE.reason(
    "staff.token_revoked",
    Unauthenticated,
    "このアクセストークンはログアウト済みです。",
    "The access token was revoked (logged out).",
    field="token",
)

TOKEN_REFUSED = TABLE.reason(
    "staff.token_refused",
    Unauthenticated,
    "アクセストークンを得られませんでした（{reason}）。",
    "No access token was issued ({reason}).",
    field="card",
)

TWO_PERSON_RULE = TABLE.reason(
    "staff.two_person_rule",
    NotPermitted,
    "{limit}人を超える一覧・出力には、同じ組織の別の監督者の承認が必要です。",
    "Listing or exporting more than {limit} people needs the approval of another supervisor of the same organisation.",
    field="approval",
)

UNKNOWN = TABLE.reason(
    "staff.unknown",
    NotFound,
    "職員 {staff_id} はいません。",
    "There is no staff member {staff_id}.",
    field="staff_id",
)

UNKNOWN_BULK = TABLE.reason(
    "staff.unknown_bulk",
    NotFound,
    "一括出力の申請 {bulk_id} はありません。",
    "There is no bulk request {bulk_id}.",
)

UNKNOWN_CARD = TABLE.reason(
    "staff.unknown_card",
    Unauthenticated,
    "この職員カードは職員名簿に登録されていません。",
    "This staff card is not the card the staff roster records for its holder.",
    field="certificate",
)

UNKNOWN_PURPOSE = TABLE.reason(
    "staff.unknown_purpose",
    InvalidInput,
    "事務「{value}」は利用目的の一覧にありません。",
    "{value!r} is not one of the listed purposes (事務).",
    field="purpose",
)

UNKNOWN_RECIPIENT = TABLE.reason(
    "staff.unknown_recipient",
    NotFound,
    "受取人 {name} は登録されていません。",
    "There is no registered recipient {name}.",
    field="recipient",
)

WRONG_ROLE = TABLE.reason(
    "staff.wrong_role",
    NotPermitted,
    "この操作には役割 {needed} が必要です（あなたの役割：{held}）。",
    "This needs the role {needed} (you hold {held}).",
)
