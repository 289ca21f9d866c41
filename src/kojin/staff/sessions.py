"""Staff web sessions (職員のログイン状態), bound to one staff card insertion and kept server-side.

The same rules as the portal's sessions (:mod:`kojin.portal.sessions`):

* a session is opened only by a verified staff-card answer, and records the
  card's certificate serial and the reader's insertion id;
* starting a login, or answering one, ends whatever session that browser had;
* the reader reports a card taken out or replaced (:meth:`StaffSessions.end_insertion`),
  which ends the session of that insertion; revoking a staff card ends every
  session of its holder (:meth:`StaffSessions.end_staff`);
* an idle session ends after ``idle_seconds`` (10 minutes by default), any
  session after ``max_seconds`` (8 hours: a working day).

The cookie holds a random token; the store keeps its SHA-256, a public
session id (the principal's ``token_id``, by which a logout names it), the
CSRF token and the rest.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, or_, select, update

from kojin.staff.store import staff_sessions

PENDING_SECONDS = 300
TOUCH_EVERY_S = 15


def _env_seconds(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class StaffSession:
    token_hash: str
    session_id: str
    state: str  # pending | active
    csrf_token: str
    challenge: str | None
    staff_id: str | None
    card_serial: str | None
    insertion_id: str | None
    created_at: datetime
    last_seen_at: datetime

    @property
    def active(self) -> bool:
        return self.state == "active" and self.staff_id is not None


def _session(row: Row[Any]) -> StaffSession:
    return StaffSession(
        row.token_hash,
        row.session_id,
        row.state,
        row.csrf_token,
        row.challenge,
        row.staff_id,
        row.card_serial,
        row.insertion_id,
        _utc(row.created_at),
        _utc(row.last_seen_at),
    )


class StaffSessions:
    """Sessions in the staff party's store, shared by every worker."""

    def __init__(
        self,
        engine: Engine,
        *,
        idle_seconds: int | None = None,
        max_seconds: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds or _env_seconds("KOJIN_STAFF_IDLE_SECONDS", 600)
        self.max_seconds = max_seconds or _env_seconds("KOJIN_STAFF_MAX_SECONDS", 8 * 3600)
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _insert(self, **values: Any) -> tuple[str, StaffSession]:
        token = secrets.token_urlsafe(32)
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(staff_sessions).values(
                    token_hash=token_hash(token),
                    session_id=secrets.token_urlsafe(24),
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    **values,
                )
            )
        found = self.find(token)
        assert found is not None
        return token, found

    def start_login(self, challenge: str) -> tuple[str, StaffSession]:
        """A pending session holding the challenge the card must sign."""
        self.purge_expired()
        return self._insert(state="pending", challenge=challenge)

    def open(self, *, staff_id: str, card_serial: str, insertion_id: str) -> tuple[str, StaffSession]:
        """A session for a verified card insertion, under a fresh token (never the pending one's)."""
        return self._insert(state="active", staff_id=staff_id, card_serial=card_serial, insertion_id=insertion_id)

    def find(self, token: str | None) -> StaffSession | None:
        if not token or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(staff_sessions).where(staff_sessions.c.token_hash == token_hash(token))).first()
        return None if row is None else _session(row)

    def expires_at(self, session: StaffSession) -> datetime:
        return session.created_at + timedelta(seconds=self.max_seconds)

    def expired(self, session: StaffSession) -> bool:
        now = self.now()
        age = (now - session.created_at).total_seconds()
        if session.state == "pending":
            return age > PENDING_SECONDS
        return (now - session.last_seen_at).total_seconds() > self.idle_seconds or age > self.max_seconds

    def touch(self, session: StaffSession) -> None:
        """Mark the session used now, at most every 15 s (a page with several parts costs one write)."""
        now = self.now()
        if (now - session.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
            with self.engine.begin() as conn:
                conn.execute(
                    update(staff_sessions)
                    .where(staff_sessions.c.token_hash == session.token_hash)
                    .values(last_seen_at=now)
                )

    def take_pending(self, token: str | None) -> StaffSession | None:
        """Spend this browser's pending login: only one answer can ever use it."""
        session = self.find(token)
        if session is None or session.state != "pending":
            return None
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(staff_sessions).where(
                    staff_sessions.c.token_hash == session.token_hash, staff_sessions.c.state == "pending"
                )
            ).rowcount
        return session if gone == 1 else None

    def end(self, token: str | None) -> StaffSession | None:
        session = self.find(token)
        if session is not None:
            self.end_hash(session.token_hash)
        return session

    def end_hash(self, hashed: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == hashed))

    def end_id(self, session_id: str) -> int:
        """End the session a principal's ``token_id`` names (logout by id)."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(staff_sessions).where(staff_sessions.c.session_id == session_id)).rowcount)

    def end_insertion(self, insertion_id: str) -> int:
        """The reader says this insertion is over (card taken out or replaced): end its session."""
        if not insertion_id:
            return 0
        with self.engine.begin() as conn:
            return int(
                conn.execute(delete(staff_sessions).where(staff_sessions.c.insertion_id == insertion_id)).rowcount
            )

    def end_staff(self, staff_id: str) -> int:
        """End every session of a staff member (their card was revoked, or they were stopped)."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(staff_sessions).where(staff_sessions.c.staff_id == staff_id)).rowcount)

    def purge_expired(self) -> int:
        """Delete sessions past any limit (expiry is also checked on use)."""
        now = self.now().timestamp()
        idle_cut = datetime.fromtimestamp(now - self.idle_seconds, UTC)
        age_cut = datetime.fromtimestamp(now - self.max_seconds, UTC)
        pending_cut = datetime.fromtimestamp(now - PENDING_SECONDS, UTC)
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(staff_sessions).where(
                        or_(
                            staff_sessions.c.last_seen_at < idle_cut,
                            staff_sessions.c.created_at < age_cut,
                            (staff_sessions.c.state == "pending") & (staff_sessions.c.created_at < pending_cut),
                        )
                    )
                ).rowcount
            )
