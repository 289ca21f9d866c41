"""Reason codes of portal: マイナポータル (the citizen portal).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.

The error classes only these codes are raised as are defined here too, so that the
table needs nothing from the modules that raise them; those modules import them back.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated

TABLE = Table(
    "portal",
    "マイナポータル (the citizen portal)",
    prefixes=("account", "history", "notice", "portal", "proxy", "selfinfo"),
)


class SessionEnded(Unauthenticated):
    """No session, or one that has ended (セッション終了)."""


ACCOUNT_BAD_ACCOUNT_NUMBER = TABLE.reason(
    "account.bad_account_number",
    InvalidInput,
    "{label_ja}は{length}桁の数字です。",
    "The {label_en} is {length} digits.",
    field="account_number",
)

ACCOUNT_BAD_ACCOUNT_TYPE = TABLE.reason(
    "account.bad_account_type",
    InvalidInput,
    "預金種目は普通・当座・貯蓄のいずれかです。",
    "The account type is ordinary, current or savings.",
    field="account_type",
)

ACCOUNT_BAD_BANK_CODE = TABLE.reason(
    "account.bad_bank_code",
    InvalidInput,
    "{label_ja}は{length}桁の数字です。",
    "The {label_en} is {length} digits.",
    field="bank_code",
)

ACCOUNT_BAD_BRANCH_CODE = TABLE.reason(
    "account.bad_branch_code",
    InvalidInput,
    "{label_ja}は{length}桁の数字です。",
    "The {label_en} is {length} digits.",
    field="branch_code",
)

ACCOUNT_BAD_HOLDER_KANA = TABLE.reason(
    "account.bad_holder_kana",
    InvalidInput,
    "口座名義はカタカナ（全角・半角）かひらがなで、{max_chars}文字までです。",
    "The account holder is katakana (full or half width) or hiragana, at most {max_chars} characters.",
    field="holder_kana",
)

ACCOUNT_HOLDER_MISMATCH = TABLE.reason(
    "account.holder_mismatch",
    InvalidInput,
    "口座名義（{holder_kana}）が住民票のフリガナ（{person_kana}）と一致しません。"
    "公金受取口座は本人名義の口座に限られます。",
    "The account holder ({holder_kana}) does not match your registered kana ({person_kana}); a public-funds "
    "account must be in your own name.",
    field="holder_kana",
)

HISTORY_NOT_FOUND = TABLE.reason(
    "history.not_found",
    NotFound,
    "その記録はありません。",
    "No such record.",
    field="index",
)

NOTICE_BAD_BODY = TABLE.reason(
    "notice.bad_body",
    InvalidInput,
    "本文は1〜{max_body}文字です。",
    "A body is 1–{max_body} characters.",
    field="body",
)

NOTICE_BAD_TITLE = TABLE.reason(
    "notice.bad_title",
    InvalidInput,
    "件名は1〜{max_title}文字です。",
    "A title is 1–{max_title} characters.",
    field="title",
)

NOTICE_NOT_FOUND = TABLE.reason(
    "notice.not_found",
    NotFound,
    "そのお知らせはありません。",
    "No such notice.",
    field="notice",
)

NOTICE_UNKNOWN_SENDER = TABLE.reason(
    "notice.unknown_sender",
    NotFound,
    "機関 {sender_id} は登録されていません。",
    "Agency {sender_id} is not registered.",
    field="from",
)

BAD_ANSWER = TABLE.reason(
    "portal.bad_answer",
    InvalidInput,
    "{what_ja}の応答が正しくありません。",
    "The {what_en}'s answer is malformed.",
    field="insertion_id",
)

CARD_REVOKED = TABLE.reason(
    "portal.card_revoked",
    Unauthenticated,
    "このカードの電子証明書は失効しています（紛失の届出など）。",
    "This card's certificate has been revoked (reported lost, for example).",
    field="card",
)

CHALLENGE_MISMATCH = TABLE.reason(
    "portal.challenge_mismatch",
    Unauthenticated,
    "この応答は、このブラウザーで始めたログインのものではありません。最初からやり直してください。",
    "This answer is not for the login started in this browser; start again.",
    field="challenge",
)

HISTORY_UNAVAILABLE = TABLE.reason(
    "portal.history_unavailable",
    NotFound,
    "やりとり履歴は準備中です。",
    "The exchange history is not available yet.",
)

LOGIN_RESTART = TABLE.reason(
    "portal.login_restart",
    Unauthenticated,
    "ログインの手続きが見つからないか期限切れです。最初からやり直してください。",
    "No login is in progress here, or it expired; start again.",
    field="challenge",
)

MEDICAL_SELF_ONLY = TABLE.reason(
    "portal.medical_self_only",
    NotPermitted,
    "医療の情報は本人（未成年の子は親）だけが見られます。本人の画面に戻ってください。",
    "Medical data is shown to the person only (or a parent, for a child); switch back to your own pages.",
    field="scope",
)

NO_SESSION = TABLE.reason(
    "portal.no_session",
    SessionEnded,
    "ログインしていません。カードでログインしてください。",
    "You are not logged in; log in with your card.",
    field="session",
)

NO_SUCH_PERSON = TABLE.reason(
    "portal.no_such_person",
    NotFound,
    "選択できない相手です。",
    "You cannot act for that person.",
    field="acting",
)

OUT_OF_SCOPE = TABLE.reason(
    "portal.out_of_scope",
    NotPermitted,
    "代理で「{label_ja}」を見ることはできません。本人の画面に戻ってください。",
    "You may not open “{label_en}” for this person; switch back to your own pages.",
    field="scope",
)

DISPUTE_BAD_OUTCOME = TABLE.reason(
    "portal.dispute_bad_outcome",
    InvalidInput,
    "確認の結果は confirmed（正しいひも付け）か wrong（誤り）のいずれかです。",
    "The outcome is confirmed (the link is right) or wrong (the link was wrong).",
    field="outcome",
)

DISPUTE_CLOSED = TABLE.reason(
    "portal.dispute_closed",
    Conflict,
    "この申し出は確認済みです。",
    "This dispute was already resolved.",
    field="dispute",
)

DISPUTE_NOT_FOUND = TABLE.reason(
    "portal.dispute_not_found",
    NotFound,
    "その申し出はありません。",
    "No such dispute.",
    field="dispute",
)

DISPUTE_NOTE_TOO_LONG = TABLE.reason(
    "portal.dispute_note_invalid",
    InvalidInput,
    "申し出の内容は{limit}文字以内で、制御文字を含めないでください。",
    "The note is at most {limit} characters, with no control characters.",
    field="note",
)

LINK_ALREADY_DISPUTED = TABLE.reason(
    "portal.link_already_disputed",
    Conflict,
    "このひも付けはすでに申し出を受け付けています。確認が終わるまでお待ちください。",
    "This link is already disputed; it stays suspended until a supervisor has checked it.",
    field="link",
)

LINK_NOT_FOUND = TABLE.reason(
    "portal.link_not_found",
    NotFound,
    "そのひも付けは見つかりません。画面を開き直してください。",
    "No such link; reload the page.",
    field="link",
)

OWN_PAGES_ONLY = TABLE.reason(
    "portal.own_pages_only",
    NotPermitted,
    "代理人の設定は本人の画面でだけ行えます。",
    "Proxies are managed on your own pages only.",
    field="acting",
)

SELFINFO_UNAVAILABLE = TABLE.reason(
    "portal.selfinfo_unavailable",
    NotFound,
    "自己情報の取得は準備中です。",
    "Fetching your information is not available yet.",
)

SESSION_ENDED = TABLE.reason(
    "portal.session_ended",
    SessionEnded,
    "このセッションは終了しています（別のカードが挿入されたか、ログアウトしました）。",
    "This session has ended (another card was inserted, or you logged out).",
    field="session",
)

SESSION_TIMEOUT = TABLE.reason(
    "portal.session_timeout",
    SessionEnded,
    "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
    "You were logged out after a period without activity; log in again.",
    field="session",
)

UNKNOWN_CARD = TABLE.reason(
    "portal.unknown_card",
    Unauthenticated,
    "このカードの持ち主を確認できません。",
    "The card's holder cannot be found.",
    field="card",
)

PROXY_BAD_EXPIRY = TABLE.reason(
    "proxy.bad_expiry",
    InvalidInput,
    "期限は明日から{max_proxy_days}日以内の日付にしてください。",
    "The expiry must be a date from tomorrow to {max_proxy_days} days ahead.",
    field="expires_on",
)

PROXY_BAD_INVITATION = TABLE.reason(
    "proxy.bad_invitation",
    InvalidInput,
    "招待コードが正しくないか、有効期限が切れているか、既に使われています。",
    "The invitation code is wrong, expired or already used.",
    field="code",
)

PROXY_BAD_SCOPE = TABLE.reason(
    "proxy.bad_scope",
    InvalidInput,
    "代理人に任せられない範囲が指定されました。",
    "That part of the portal cannot be given to a proxy.",
    field="scope",
)

PROXY_NO_SCOPE = TABLE.reason(
    "proxy.no_scope",
    InvalidInput,
    "代理人に任せる範囲を一つ以上選んでください。",
    "Choose at least one part of the portal for the proxy.",
    field="scope",
)

PROXY_NOT_FOUND = TABLE.reason(
    "proxy.not_found",
    NotFound,
    "その代理人の登録はありません。",
    "No such proxy.",
    field="proxy",
)

PROXY_SELF = TABLE.reason(
    "proxy.self",
    Conflict,
    "自分自身を代理人にすることはできません。",
    "You cannot be your own proxy.",
    field="code",
)

SELFINFO_NO_SUCH_OPTION = TABLE.reason(
    "selfinfo.no_such_option",
    NotFound,
    "その情報は取得できません。",
    "That information cannot be fetched.",
    field="option",
)

ACCOUNT_BAD_BY_FIELD = {
    "bank_code": ACCOUNT_BAD_BANK_CODE,
    "branch_code": ACCOUNT_BAD_BRANCH_CODE,
    "account_number": ACCOUNT_BAD_ACCOUNT_NUMBER,
}
