"""The portal's activity log (ポータル利用履歴): what was done, by whom, about whom.

Every action taken for another person (a parent for a child, an appointed
proxy for the person who appointed them) is recorded once with both people,
and shows on both people's pages. The person's own actions are recorded too,
so each can see every login and change made in their name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, or_, select

from kojin.core.i18n import pick
from kojin.portal.domain import ACTING_LABELS, ActingKind
from kojin.portal.store import activity

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "login": ("カードでログイン", "logged in with the card"),
    "logout": ("ログアウト", "logged out"),
    "view": ("画面を表示", "viewed a page"),
    "acting_start": ("代理での操作を開始", "started acting for this person"),
    "self_info": ("自己情報を取得", "fetched own information from an agency"),
    "account_registered": ("公金受取口座を登録・変更", "registered or changed the public-funds account"),
    "account_review": ("公金受取口座の登録を保留（確認中）", "public-funds account held for review"),
    "account_refused": ("公金受取口座の登録を拒否", "public-funds account refused"),
    "card_lost": ("カードの紛失を届出（一時停止）", "reported the card lost (suspended)"),
    "notice_read": ("お知らせを既読にした", "marked a notice read"),
    "export": ("データを書き出した", "exported the data"),
    "proxy_invited": ("代理人の招待コードを発行", "issued a proxy invitation code"),
    "proxy_accepted": ("代理人の登録を受諾", "accepted being a proxy"),
    "proxy_revoked": ("代理人の登録を取り消し", "revoked a proxy"),
    "link_disputed": ("ひも付けの誤りを申し出（利用を停止）", "disputed a link (suspended)"),
    "link_confirmed": (
        "申し出の確認結果: 正しいひも付け（停止を解除）",
        "dispute checked: the link is right (resumed)",
    ),
    "link_wrong": ("申し出の確認結果: 誤り（ひも付けを削除）", "dispute checked: the link was wrong (removed)"),
}


@dataclass(frozen=True)
class ActivityEntry:
    """One line of the portal activity log."""

    entry_id: int
    at: datetime
    actor_id: int
    subject_id: int
    via: ActingKind
    action: str
    detail: str

    @property
    def label(self) -> str:
        ja, en = ACTION_LABELS.get(self.action, (self.action, self.action))
        return pick(ja, en)

    @property
    def via_label(self) -> str:
        ja, en = ACTING_LABELS[self.via]
        return pick(ja, en)

    def as_record(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "action": self.action,
            "label": self.label,
            "detail": self.detail,
            "via": self.via.value,
            "by_self": self.actor_id == self.subject_id,
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ActivityLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, actor_id: int, subject_id: int, via: ActingKind, action: str, detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(activity).values(
                    at=datetime.now(UTC),
                    actor_id=actor_id,
                    subject_id=subject_id,
                    via=via.value,
                    action=action[:40],
                    detail=detail[:300],
                )
            )

    def for_person(self, resident_id: int, *, limit: int = 200) -> list[ActivityEntry]:
        """Entries done by the person or about the person, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(activity)
                .where(or_(activity.c.actor_id == resident_id, activity.c.subject_id == resident_id))
                .order_by(activity.c.entry_id.desc())
                .limit(limit)
            ).all()
        return [
            ActivityEntry(r.entry_id, _utc(r.at), r.actor_id, r.subject_id, ActingKind(r.via), r.action, r.detail)
            for r in rows
        ]
