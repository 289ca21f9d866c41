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

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row

from kojin.core.card_sessions import CardSessions, env_seconds
from kojin.core.db import stored_utc as utc
from kojin.staff.store import staff_sessions


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
        utc(row.created_at),
        utc(row.last_seen_at),
    )


class StaffSessions(CardSessions[StaffSession]):
    """Sessions in the staff party's store, shared by every worker (the rules: :mod:`kojin.core.card_sessions`)."""

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
            staff_sessions,
            _session,
            idle_seconds=idle_seconds or env_seconds("KOJIN_STAFF_IDLE_SECONDS", 600),
            max_seconds=max_seconds or env_seconds("KOJIN_STAFF_MAX_SECONDS", 8 * 3600),
            clock=clock,
        )

    def start_login(self, challenge: str) -> tuple[str, StaffSession]:
        """A pending session holding the challenge the card must sign."""
        return self.begin(challenge, session_id=secrets.token_urlsafe(24))

    def open(self, *, staff_id: str, card_serial: str, insertion_id: str) -> tuple[str, StaffSession]:
        """A session for a verified card insertion, under a fresh token (never the pending one's)."""
        return self.insert(
            state="active",
            session_id=secrets.token_urlsafe(24),
            staff_id=staff_id,
            card_serial=card_serial,
            insertion_id=insertion_id,
        )

    def expires_at(self, session: StaffSession) -> datetime:
        return session.created_at + timedelta(seconds=self.max_seconds)

    def end_id(self, session_id: str) -> int:
        """End the session a principal's ``token_id`` names (logout by id)."""
        return self.end_where("session_id", session_id)

    def end_staff(self, staff_id: str) -> int:
        """End every session of a staff member (their card was revoked, or they were stopped)."""
        return self.end_where("staff_id", staff_id)
