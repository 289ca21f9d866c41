"""Portal sessions (セッション), bound to one card insertion and kept server-side.

The 748 public-funds accounts registered to the wrong person came from help-desk
terminals where one person's session was still open when the next person sat
down. Here a session cannot outlive the card that opened it:

* a session is created only by a verified card answer, and records the card,
  its authentication serial and the reader's insertion id;
* starting a login, or answering one, in a browser ends whatever session that
  browser had, before anything else happens;
* the reader reports a card taken out or another card put in
  (:meth:`SessionStore.end_insertion`), which ends the session of that
  insertion;
* a loss report ends every session of the card (:meth:`SessionStore.end_card`);
* an idle session ends after ``idle_seconds`` (10 minutes by default), any
  session after ``max_seconds``.

The cookie holds a random token; the store keeps only its SHA-256, the CSRF
token and the rest, so every worker process sees the same session and a copy
of the table lets no one in.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.engine import Row

from kojin.portal import reasons
from kojin.portal.domain import ActingKind
from kojin.portal.reasons import SessionEnded as SessionEnded
from kojin.portal.store import sessions

PENDING_SECONDS = 300


def _env_seconds(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PortalSession:
    """One browser's session (ログイン状態)."""

    token_hash: str
    state: str
    csrf_token: str
    handle_key: bytes
    challenge: str | None
    card_id: str | None
    auth_serial: int | None
    insertion_id: str | None
    resident_id: int | None
    acting_for: int | None
    acting_kind: ActingKind
    proxy_id: int | None
    created_at: datetime
    last_seen_at: datetime

    @property
    def active(self) -> bool:
        return self.state == "active" and self.resident_id is not None

    @property
    def subject_id(self) -> int:
        """Whose pages this session shows: the person acted for, or the person logged in."""
        assert self.resident_id is not None
        return self.acting_for if self.acting_for is not None else self.resident_id


def _session(row: Row[tuple[object, ...]]) -> PortalSession:
    m = row._mapping
    return PortalSession(
        token_hash=str(m["token_hash"]),
        state=str(m["state"]),
        csrf_token=str(m["csrf_token"]),
        handle_key=bytes(m["handle_key"]),
        challenge=m["challenge"],
        card_id=m["card_id"],
        auth_serial=int(m["auth_serial"]) if m["auth_serial"] else None,
        insertion_id=m["insertion_id"],
        resident_id=m["resident_id"],
        acting_for=m["acting_for"],
        acting_kind=ActingKind(m["acting_kind"] or ActingKind.SELF.value),
        proxy_id=m["proxy_id"],
        created_at=_utc(m["created_at"]),
        last_seen_at=_utc(m["last_seen_at"]),
    )


class SessionStore:
    """Sessions in the portal's store, shared by every worker."""

    def __init__(
        self,
        engine: Engine,
        *,
        idle_seconds: int | None = None,
        max_seconds: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds or _env_seconds("KOJIN_PORTAL_IDLE_SECONDS", 600)
        self.max_seconds = max_seconds or _env_seconds("KOJIN_PORTAL_MAX_SECONDS", 3600)
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def start_login(self, challenge: str) -> tuple[str, PortalSession]:
        """A pending session holding the challenge the card must sign."""
        self.purge_expired()
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=token_hash(token),
                    state="pending",
                    csrf_token=secrets.token_urlsafe(32),
                    handle_key=secrets.token_bytes(32),
                    challenge=challenge,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        found = self.find(token)
        assert found is not None
        return token, found

    def find(self, token: str | None) -> PortalSession | None:
        """The session of a cookie token as stored, whatever its age."""
        if not token or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == token_hash(token))).first()
        return None if row is None else _session(row)

    def expired(self, session: PortalSession) -> bool:
        now = self._now()
        idle = (now - session.last_seen_at).total_seconds()
        age = (now - session.created_at).total_seconds()
        if session.state == "pending":
            return age > PENDING_SECONDS
        return idle > self.idle_seconds or age > self.max_seconds

    def check(self, token: str | None) -> PortalSession:
        """The active session of ``token``, touched; an expired one is ended and refused."""
        session = self.find(token)
        if session is None or not session.active:
            raise (reasons.SESSION_ENDED if token else reasons.NO_SESSION).error()
        if self.expired(session):
            self.end_hash(session.token_hash)
            raise reasons.SESSION_TIMEOUT.error()
        now = self._now()
        # Touch at most every 15 s: a page with several htmx parts costs one write.
        if (now - session.last_seen_at).total_seconds() >= 15:
            with self.engine.begin() as conn:
                conn.execute(
                    update(sessions).where(sessions.c.token_hash == session.token_hash).values(last_seen_at=now)
                )
        return session

    def take_pending(self, token: str | None) -> PortalSession | None:
        """Spend this browser's pending login: only one answer can ever use it."""
        session = self.find(token)
        if session is None or session.state != "pending":
            return None
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(sessions).where(sessions.c.token_hash == session.token_hash, sessions.c.state == "pending")
            ).rowcount
        return session if gone == 1 else None

    def open(self, *, card_id: str, auth_serial: int, insertion_id: str, resident_id: int) -> tuple[str, PortalSession]:
        """A session for a verified card insertion, under a fresh token (never the pending one's)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=token_hash(token),
                    state="active",
                    csrf_token=secrets.token_urlsafe(32),
                    handle_key=secrets.token_bytes(32),
                    card_id=card_id,
                    auth_serial=str(auth_serial),
                    insertion_id=insertion_id,
                    resident_id=resident_id,
                    acting_kind=ActingKind.SELF.value,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        found = self.find(token)
        assert found is not None
        return token, found

    def set_acting(
        self, session: PortalSession, acting_for: int | None, kind: ActingKind, proxy_id: int | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == session.token_hash)
                .values(
                    acting_for=acting_for,
                    acting_kind=kind.value,
                    proxy_id=proxy_id,
                )
            )

    def end(self, token: str | None) -> PortalSession | None:
        """End the session of a cookie token (whatever its state); returns what it was."""
        session = self.find(token)
        if session is not None:
            self.end_hash(session.token_hash)
        return session

    def end_hash(self, hashed: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == hashed))

    def end_card(self, card_id: str) -> int:
        """End every session opened with this card (it was reported lost)."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(sessions).where(sessions.c.card_id == card_id)).rowcount)

    def end_insertion(self, insertion_id: str) -> int:
        """The reader says this insertion is over (card taken out or replaced): end its session."""
        if not insertion_id:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(delete(sessions).where(sessions.c.insertion_id == insertion_id)).rowcount)

    def sessions_of(self, resident_id: int) -> list[PortalSession]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sessions).where(sessions.c.resident_id == resident_id)).all()
        return [_session(r) for r in rows]

    def end_acting_for(self, principal_id: int, proxy_resident_id: int) -> None:
        """A proxy relation ended: sessions acting on it go back to the proxy's own pages."""
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.resident_id == proxy_resident_id, sessions.c.acting_for == principal_id)
                .values(acting_for=None, acting_kind=ActingKind.SELF.value, proxy_id=None)
            )

    def purge_expired(self) -> int:
        """Delete sessions past any limit (run now and then; expiry is also checked on use)."""
        now = self._now().timestamp()
        idle_cut = datetime.fromtimestamp(now - self.idle_seconds, UTC)
        age_cut = datetime.fromtimestamp(now - self.max_seconds, UTC)
        pending_cut = datetime.fromtimestamp(now - PENDING_SECONDS, UTC)
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(sessions).where(
                        or_(
                            sessions.c.last_seen_at < idle_cut,
                            sessions.c.created_at < age_cut,
                            (sessions.c.state == "pending") & (sessions.c.created_at < pending_cut),
                        )
                    )
                ).rowcount
            )
