"""Notices from agencies to a person (お知らせ).

An agency posts a notice to one resident (``kojin notice send``); the person
reads it in the portal and it is marked read. Nothing else reads the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, update

from kojin.core.errors import NotFound
from kojin.portal import reasons
from kojin.portal.domain import validate_notice
from kojin.portal.store import notices


@dataclass(frozen=True)
class Notice:
    """One notice (お知らせ)."""

    notice_id: int
    resident_id: int
    sender_id: str
    sender_name: str
    title: str
    body: str
    sent_at: datetime
    read_at: datetime | None

    @property
    def read(self) -> bool:
        return self.read_at is not None

    def as_record(self) -> dict[str, object]:
        return {
            "sender_id": self.sender_id,
            "sender_name": self.sender_name,
            "title": self.title,
            "body": self.body,
            "sent_at": self.sent_at.isoformat(),
            "read_at": self.read_at.isoformat() if self.read_at else None,
        }


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def not_found() -> NotFound:
    return reasons.NOTICE_NOT_FOUND.error()


class NoticeService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, resident_id: int, *, sender_id: str, sender_name: str, title: str, body: str) -> int:
        title, body = validate_notice(title, body)
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(notices).values(
                    resident_id=resident_id,
                    sender_id=sender_id[:40],
                    sender_name=sender_name[:200],
                    title=title,
                    body=body,
                    sent_at=datetime.now(UTC),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def of(self, resident_id: int, *, limit: int = 200) -> list[Notice]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(notices)
                .where(notices.c.resident_id == resident_id)
                .order_by(notices.c.notice_id.desc())
                .limit(limit)
            ).all()
        return [
            Notice(
                r.notice_id,
                r.resident_id,
                r.sender_id,
                r.sender_name,
                r.title,
                r.body,
                _utc(r.sent_at) or datetime.now(UTC),
                _utc(r.read_at),
            )
            for r in rows
        ]

    def get(self, resident_id: int, notice_id: int) -> Notice:
        """One of the person's notices; another person's is "not found", exactly as a missing one."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(notices).where(notices.c.notice_id == notice_id, notices.c.resident_id == resident_id)
            ).first()
        if r is None:
            raise not_found()
        return Notice(
            r.notice_id,
            r.resident_id,
            r.sender_id,
            r.sender_name,
            r.title,
            r.body,
            _utc(r.sent_at) or datetime.now(UTC),
            _utc(r.read_at),
        )

    def mark_read(self, resident_id: int, notice_id: int) -> Notice:
        with self.engine.begin() as conn:
            conn.execute(
                update(notices)
                .where(
                    notices.c.notice_id == notice_id,
                    notices.c.resident_id == resident_id,
                    notices.c.read_at.is_(None),
                )
                .values(read_at=datetime.now(UTC))
            )
        return self.get(resident_id, notice_id)

    def unread_count(self, resident_id: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(notices)
                    .where(notices.c.resident_id == resident_id, notices.c.read_at.is_(None))
                ).scalar_one()
            )
