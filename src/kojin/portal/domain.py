"""The portal's rules (マイナポータルの規則): pure, no web and no database.

* Who may act for whom: a parent for a child under 15 in the same household
  (法定代理人), and a proxy a person appointed (任意代理人) within a scope and until
  an expiry.
* The public-funds account (公金受取口座): the form of each field, and that the
  holder's kana is the person's own after normalisation.
* Notices (お知らせ): their size.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import jaconv

from kojin.core.japan import age_on
from kojin.portal import reasons
from kojin.registry.domain import Resident, Status

# -- acting for someone (代理) ------------------------------------------------


class Scope(StrEnum):
    """A part of the portal (画面の範囲), as far as acting for someone goes."""

    ME = "me"  # わたしの情報
    HISTORY = "history"  # やりとり履歴
    ACCOUNT = "account"  # 公金受取口座
    NOTICES = "notices"  # お知らせ
    CARD = "card"  # カード
    EXPORT = "export"  # データの書き出し
    ACTIVITY = "activity"  # 利用履歴
    PROXIES = "proxies"  # 代理人の管理
    STAFF = "staff"  # 職員の閲覧記録
    LINKS = "links"  # ひも付けの確認


SCOPE_LABELS: dict[Scope, tuple[str, str]] = {
    Scope.ME: ("わたしの情報", "My information"),
    Scope.HISTORY: ("やりとり履歴", "Exchange history"),
    Scope.ACCOUNT: ("公金受取口座", "Public-funds account"),
    Scope.NOTICES: ("お知らせ", "Notices"),
    Scope.CARD: ("カード", "Card"),
    Scope.EXPORT: ("データの書き出し", "Data export"),
    Scope.ACTIVITY: ("利用履歴", "Portal activity"),
    Scope.PROXIES: ("代理人", "Proxies"),
    Scope.STAFF: ("職員の閲覧記録", "Staff who looked"),
    Scope.LINKS: ("ひも付けの確認", "Links to me"),
}

# What an appointed proxy may be given; never the card, the export or proxies.
PROXY_SCOPES: tuple[Scope, ...] = (Scope.ME, Scope.HISTORY, Scope.ACCOUNT, Scope.NOTICES)
# A parent is the child's legal representative: everything but appointing proxies.
PARENT_SCOPES: tuple[Scope, ...] = (
    Scope.ME,
    Scope.HISTORY,
    Scope.ACCOUNT,
    Scope.NOTICES,
    Scope.CARD,
    Scope.EXPORT,
    Scope.ACTIVITY,
    Scope.STAFF,
    Scope.LINKS,
)
CHILD_AGE_LIMIT = 15
PARENT_RELATIONSHIPS = ("世帯主", "妻", "夫")
MAX_PROXY_DAYS = 366


class ActingKind(StrEnum):
    """How the person at the screen relates to the person whose pages they see."""

    SELF = "self"  # 本人
    PARENT = "parent"  # 法定代理人（親）
    PROXY = "proxy"  # 任意代理人


ACTING_LABELS: dict[ActingKind, tuple[str, str]] = {
    ActingKind.SELF: ("本人", "self"),
    ActingKind.PARENT: ("法定代理人（親）", "parent"),
    ActingKind.PROXY: ("代理人", "proxy"),
}


def is_parent_of(parent: Resident, child: Resident, today: date) -> bool:
    """A parent may act for a child under 15 living in the same household.

    The register records each member's relationship to the head of household,
    so "parent" here is the head or the head's spouse, and "child" a 子 of that
    household. Both must be current residents; the check runs on every request,
    so a child's 15th birthday or a move ends it by itself.
    """
    return (
        parent.resident_id != child.resident_id
        and parent.status is Status.RESIDENT
        and child.status is Status.RESIDENT
        and parent.household_id == child.household_id
        and parent.relationship in PARENT_RELATIONSHIPS
        and child.relationship == "子"
        and age_on(child.birth_date, today) < CHILD_AGE_LIMIT
    )


def parse_scope(values: list[str]) -> tuple[Scope, ...]:
    """The scope of an appointed proxy: at least one of :data:`PROXY_SCOPES`."""
    chosen: list[Scope] = []
    for value in values:
        try:
            scope = Scope(value)
        except ValueError:
            scope = None
        if scope is None or scope not in PROXY_SCOPES:
            raise reasons.PROXY_BAD_SCOPE.error()
        if scope not in chosen:
            chosen.append(scope)
    if not chosen:
        raise reasons.PROXY_NO_SCOPE.error()
    return tuple(s for s in PROXY_SCOPES if s in chosen)


def scope_text(scope: tuple[Scope, ...]) -> str:
    return ",".join(s.value for s in scope)


def scope_from_text(text: str) -> tuple[Scope, ...]:
    return tuple(Scope(s) for s in text.split(",") if s)


def check_proxy_expiry(expires_on: date, today: date) -> date:
    if expires_on <= today or (expires_on - today).days > MAX_PROXY_DAYS:
        raise reasons.PROXY_BAD_EXPIRY.error(max_proxy_days=MAX_PROXY_DAYS)
    return expires_on


# -- 公金受取口座 ------------------------------------------------------------------


class AccountType(StrEnum):
    """預金種目."""

    ORDINARY = "ordinary"  # 普通
    CURRENT = "current"  # 当座
    SAVINGS = "savings"  # 貯蓄


ACCOUNT_TYPE_LABELS: dict[AccountType, tuple[str, str]] = {
    AccountType.ORDINARY: ("普通", "ordinary"),
    AccountType.CURRENT: ("当座", "current"),
    AccountType.SAVINGS: ("貯蓄", "savings"),
}


class AccountStatus(StrEnum):
    REGISTERED = "registered"  # 登録済み
    REVIEW = "review"  # 確認中（自治体・デジタル庁の確認待ち）
    DISPUTED = "disputed"  # 本人が誤りを申し出て停止中


@dataclass(frozen=True)
class AccountInput:
    """A public-funds account as the person entered it, checked and normalised."""

    bank_code: str
    branch_code: str
    account_type: AccountType
    account_number: str
    holder_kana: str

    @property
    def account_key(self) -> str:
        """The account itself, whoever holds it: what "the same account" means."""
        return f"{self.bank_code}-{self.branch_code}-{self.account_type.value}-{self.account_number}"


_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_KANA_ALLOWED = re.compile(r"^[ァ-ヺーヽヾ・ 　]+\Z")
_SEPARATORS = re.compile(r"[ 　・]+")


def kana_display(text: str) -> str:
    """Full-width katakana with single full-width spaces (how the account shows the holder)."""
    text = jaconv.h2z(unicodedata.normalize("NFKC", text), kana=True, digit=False, ascii=False)
    text = jaconv.hira2kata(text)
    return _SEPARATORS.sub("　", text.strip(" 　"))


def kana_key(text: str) -> str:
    """The comparison key of a kana name: width, hiragana, spaces and small kana do not matter.

    Banks write holders in half-width katakana with small kana made large
    (ｷﾖｳｺ for キョウコ); the register writes full-width with small kana. Both
    come to the same key.
    """
    return _SEPARATORS.sub("", kana_display(text)).translate(_SMALL_KANA)


def _digits(value: str, length: int, field: str, ja: str, en: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").strip().replace("-", "")
    if not re.fullmatch(rf"[0-9]{{{length}}}", text):
        raise reasons.ACCOUNT_BAD_BY_FIELD[field].error(label_ja=ja, length=length, label_en=en)
    return text


def validate_account(
    bank_code: str, branch_code: str, account_type: str, account_number: str, holder_kana: str
) -> AccountInput:
    bank = _digits(bank_code, 4, "bank_code", "金融機関コード", "bank code")
    branch = _digits(branch_code, 3, "branch_code", "支店コード", "branch code")
    try:
        kind = AccountType(account_type)
    except ValueError:
        raise reasons.ACCOUNT_BAD_ACCOUNT_TYPE.error() from None
    number = _digits(account_number, 7, "account_number", "口座番号", "account number")
    holder = kana_display(holder_kana or "")
    if not holder or not _KANA_ALLOWED.match(holder) or not kana_key(holder):
        raise reasons.ACCOUNT_BAD_HOLDER_KANA.error(max_chars=100)
    if len(holder) > 100:
        raise reasons.ACCOUNT_BAD_HOLDER_KANA.error(max_chars=100)
    return AccountInput(bank, branch, kind, number, holder)


def check_holder_is_person(account: AccountInput, person_kana: str) -> None:
    """The holder must be the person: the same kana after normalisation, or refused with the reason."""
    if kana_key(account.holder_kana) != kana_key(person_kana):
        raise reasons.ACCOUNT_HOLDER_MISMATCH.error(
            holder_kana=account.holder_kana, person_kana=kana_display(person_kana)
        )


# -- お知らせ -------------------------------------------------------------------

MAX_TITLE = 100
MAX_BODY = 2000


def validate_notice(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise reasons.NOTICE_BAD_TITLE.error(max_title=MAX_TITLE)
    if not body or len(body) > MAX_BODY:
        raise reasons.NOTICE_BAD_BODY.error(max_body=MAX_BODY)
    return title, body


# -- links the person disputes (ひも付けの誤りの申し出) ---------------------------------


class LinkKind(StrEnum):
    """What is tied to the person, as the portal lists it."""

    CODE = "code"  # an agency holds a code (機関別符号) for the person
    MEMBERSHIP = "membership"  # a health-insurance membership (医療保険の資格)
    ACCOUNT = "account"  # the 公金受取口座


LINK_KIND_LABELS: dict[LinkKind, tuple[str, str]] = {
    LinkKind.CODE: ("機関別符号", "agency code"),
    LinkKind.MEMBERSHIP: ("医療保険の資格", "health-insurance membership"),
    LinkKind.ACCOUNT: ("公金受取口座", "public-funds account"),
}


class DisputeState(StrEnum):
    OPEN = "open"  # suspended until a supervisor decides
    CONFIRMED = "confirmed"  # the link was right: the suspension is lifted
    WRONG = "wrong"  # the link was wrong: it is removed, to be made again correctly


DISPUTE_STATE_LABELS: dict[DisputeState, tuple[str, str]] = {
    DisputeState.OPEN: ("申し出中（利用を停止しています）", "disputed (suspended)"),
    DisputeState.CONFIRMED: ("確認の結果、正しいひも付けでした（停止を解除）", "checked: the link is right (resumed)"),
    DisputeState.WRONG: ("確認の結果、誤りでした（ひも付けを削除）", "checked: the link was wrong (removed)"),
}

MAX_DISPUTE_NOTE = 500


def dispute_note(text: str | None) -> str:
    """The person's or the supervisor's words, trimmed; at most :data:`MAX_DISPUTE_NOTE` characters."""
    note = unicodedata.normalize("NFC", (text or "").strip())
    if len(note) > MAX_DISPUTE_NOTE:
        raise reasons.DISPUTE_NOTE_TOO_LONG.error(limit=MAX_DISPUTE_NOTE)
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in note):
        raise reasons.DISPUTE_NOTE_TOO_LONG.error(limit=MAX_DISPUTE_NOTE)
    return note


def dispute_outcome(value: str | None) -> DisputeState:
    """A supervisor's decision: ``confirmed`` or ``wrong``."""
    if value == DisputeState.CONFIRMED.value:
        return DisputeState.CONFIRMED
    if value == DisputeState.WRONG.value:
        return DisputeState.WRONG
    raise reasons.DISPUTE_BAD_OUTCOME.error()
