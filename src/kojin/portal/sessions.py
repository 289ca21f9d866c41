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

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Row

from kojin.core.card_sessions import CardSessions, env_seconds
from kojin.core.db import stored_utc as _utc
from kojin.portal import reasons
from kojin.portal.domain import ActingKind
from kojin.portal.reasons import SessionEnded as SessionEnded
from kojin.portal.store import sessions


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


class SessionStore(CardSessions[PortalSession]):
    """Sessions in the portal's store, shared by every worker (the rules: :mod:`kojin.core.card_sessions`)."""

    def __init__(
        self,
        engine: Engine,
        *,
        idle_seconds: int | None = None,
        max_seconds: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            engine,
            sessions,
            _session,
            idle_seconds=idle_seconds or env_seconds("KOJIN_PORTAL_IDLE_SECONDS", 600),
            max_seconds=max_seconds or env_seconds("KOJIN_PORTAL_MAX_SECONDS", 3600),
            clock=clock,
        )

    def start_login(self, challenge: str) -> tuple[str, PortalSession]:
        """A pending session holding the challenge the card must sign."""
        return self.begin(challenge, handle_key=secrets.token_bytes(32))

    def check(self, token: str | None) -> PortalSession:
        """The active session of ``token``, touched; an expired one is ended and refused."""
        session = self.find(token)
        if session is None or not session.active:
            raise (reasons.SESSION_ENDED if token else reasons.NO_SESSION).error()
        if self.expired(session):
            self.end_hash(session.token_hash)
            raise reasons.SESSION_TIMEOUT.error()
        self.touch(session)
        return session

    def open(self, *, card_id: str, auth_serial: int, insertion_id: str, resident_id: int) -> tuple[str, PortalSession]:
        """A session for a verified card insertion, under a fresh token (never the pending one's)."""
        return self.insert(
            state="active",
            handle_key=secrets.token_bytes(32),
            card_id=card_id,
            auth_serial=str(auth_serial),
            insertion_id=insertion_id,
            resident_id=resident_id,
            acting_kind=ActingKind.SELF.value,
        )

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

    def end_card(self, card_id: str) -> int:
        """End every session opened with this card (it was reported lost)."""
        return self.end_where("card_id", card_id)

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
