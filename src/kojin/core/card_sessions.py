"""Server-side sessions bound to one card insertion (カードに結び付いたセッション): the rules both kinds share.

The portal's sessions (a resident's card) and the staff pages' sessions (a
staff card) follow one set of rules, kept here once:

* the cookie holds a random token; the store keeps only its SHA-256, so a copy
  of the table lets no one in, and every worker process sees the same session;
* a login starts as a *pending* row holding the challenge the card must sign,
  spent by the one answer that uses it (:meth:`CardSessions.take_pending`); a
  pending row lives five minutes;
* an active row records the reader's insertion, and the reader's report that
  the card was taken out or replaced ends it (:meth:`CardSessions.end_insertion`);
* an idle session ends after ``idle_seconds``, any session after ``max_seconds``.

A party's store subclasses :class:`CardSessions` with its own table (which
must have the columns ``token_hash``, ``state``, ``csrf_token``,
``insertion_id``, ``created_at`` and ``last_seen_at``), its own row type and
its own columns for what the session is about.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Engine, Row, Table, delete, insert, or_, select, update

PENDING_SECONDS = 300
TOUCH_EVERY_S = 15
MAX_TOKEN_CHARS = 200


def env_seconds(name: str, default: int) -> int:
    """A number of seconds from the environment, at least 1; ``default`` when unset or not a number."""
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class SessionRow(Protocol):
    @property
    def token_hash(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...


S = TypeVar("S", bound=SessionRow)


class CardSessions(Generic[S]):
    """One party's card-bound sessions in its own store."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        make: Callable[[Row[Any]], S],
        *,
        idle_seconds: int,
        max_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.table = table
        self._make = make
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def insert(self, **values: Any) -> tuple[str, S]:
        """A new row under a fresh token and CSRF token; the token (for the cookie) and the row."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        row = {"token_hash": token_hash(token), "csrf_token": secrets.token_urlsafe(32)}
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).values(**row, created_at=now, last_seen_at=now, **values))
        found = self.find(token)
        assert found is not None
        return token, found

    def begin(self, challenge: str, **values: Any) -> tuple[str, S]:
        """A pending login holding the challenge the card must sign (expired rows are purged first)."""
        self.purge_expired()
        return self.insert(state="pending", challenge=challenge, **values)

    def find(self, token: str | None) -> S | None:
        """The session of a cookie token as stored, whatever its age."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.token_hash == token_hash(token))).first()
        return None if row is None else self._make(row)

    def expired(self, session: S) -> bool:
        now = self.now()
        age = (now - session.created_at).total_seconds()
        if session.state == "pending":
            return age > PENDING_SECONDS
        return (now - session.last_seen_at).total_seconds() > self.idle_seconds or age > self.max_seconds

    def touch(self, session: S) -> None:
        """Mark the session used now, at most every 15 s: a page with several parts costs one write."""
        now = self.now()
        if (now - session.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
            with self.engine.begin() as conn:
                conn.execute(
                    update(self.table).where(self.table.c.token_hash == session.token_hash).values(last_seen_at=now)
                )

    def take_pending(self, token: str | None) -> S | None:
        """Spend this browser's pending login: only one answer can ever use it."""
        session = self.find(token)
        if session is None or session.state != "pending":
            return None
        table = self.table
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(table).where(table.c.token_hash == session.token_hash, table.c.state == "pending")
            ).rowcount
        return session if gone == 1 else None

    def end(self, token: str | None) -> S | None:
        """End the session of a cookie token (whatever its state); returns what it was."""
        session = self.find(token)
        if session is not None:
            self.end_hash(session.token_hash)
        return session

    def end_hash(self, hashed: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.token_hash == hashed))

    def end_where(self, column: str, value: object) -> int:
        """End every session whose ``column`` is ``value``; how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(self.table).where(self.table.c[column] == value)).rowcount)

    def end_insertion(self, insertion_id: str) -> int:
        """The reader says this insertion is over (card taken out or replaced): end its session."""
        return self.end_where("insertion_id", insertion_id) if insertion_id else 0

    def purge_expired(self) -> int:
        """Delete sessions past any limit (expiry is also checked on use)."""
        now = self.now().timestamp()
        idle_cut = datetime.fromtimestamp(now - self.idle_seconds, UTC)
        age_cut = datetime.fromtimestamp(now - self.max_seconds, UTC)
        pending_cut = datetime.fromtimestamp(now - PENDING_SECONDS, UTC)
        c = self.table.c
        stale = or_(
            c.last_seen_at < idle_cut,
            c.created_at < age_cut,
            (c.state == "pending") & (c.created_at < pending_cut),
        )
        with self.engine.begin() as conn:
            return int(conn.execute(delete(self.table).where(stale)).rowcount)
