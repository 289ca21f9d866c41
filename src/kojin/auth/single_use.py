"""Single use of challenges (チャレンジの一回性): each nonce recorded once, durably.

A challenge is stateless until used. When a card's answer has passed every
other check, its nonce goes into ``used_challenges``, whose primary key is what
refuses a replay — from this process or from any other worker sharing the
store. The login is accepted only after that row's commit has returned on a
``synchronous=FULL`` connection (SQLite) or a committed transaction
(PostgreSQL): an answer that was accepted stays spent after a crash.

:class:`UsedChallenges` gives the store one writer thread
(:class:`~kojin.core.group_writer.GroupWriter`), as
:mod:`kojin.core.group_commit` does for other stores, so that concurrent logins
share one transaction and one fsync. Unlike a generic group commit it does not
fail a batch on a key clash and retry each caller alone: one statement finds
the nonces already spent and the rest are inserted, so each caller learns
whether *its* nonce was new, and a replayed answer costs its neighbours
nothing. Rows go to the driver directly: on this path SQLAlchemy's statement
machinery would cost more than the commit it wraps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from kojin.auth.store import used_challenges
from kojin.core.group_writer import GroupWriter

__all__ = ["UsedChallenges"]

log = logging.getLogger("kojin.auth.single_use")

# SQLite: the batch travels as one JSON parameter, so the statements are the
# same whatever the batch size (compiled once, no limit on bound names).
_SQLITE_INSERT: Final = (
    "INSERT INTO used_challenges (nonce, rp_id, expires_at, serial, used_at) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
    "json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?)"
)
_SQLITE_SPENT: Final = "SELECT nonce FROM used_challenges WHERE nonce IN (SELECT value FROM json_each(?))"
# Forgetting expired nonces, a bounded chunk per statement so the writer is
# never held up for long (the expiry index finds them).
_PURGE_CHUNK: Final = 5000
_SQLITE_PURGE: Final = (
    "DELETE FROM used_challenges WHERE nonce IN "
    f"(SELECT nonce FROM used_challenges WHERE expires_at < ? LIMIT {_PURGE_CHUNK})"
)
_PG_PURGE: Final = (
    "DELETE FROM used_challenges WHERE nonce IN "
    f"(SELECT nonce FROM used_challenges WHERE expires_at < %s LIMIT {_PURGE_CHUNK})"
)
# How long a nonce is kept past its challenge's expiry: covers clocks of
# worker processes that lag this one's.
KEEP_AFTER_EXPIRY: Final = timedelta(hours=1)
_PURGE_EVERY_S: Final = 60.0
# PostgreSQL: ON CONFLICT DO NOTHING waits for a concurrent transaction that
# inserted the same nonce and then skips it; RETURNING names the rows this
# statement wrote, which are exactly the fresh nonces.
_PG_INSERT: Final = (
    "INSERT INTO used_challenges (nonce, rp_id, expires_at, serial, used_at) "
    "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[], %s::varchar[], %s::timestamptz[]) "
    "ON CONFLICT (nonce) DO NOTHING RETURNING nonce"
)


class _Use:
    """One caller's nonce, waiting for the commit that records it."""

    __slots__ = ("done", "error", "expires_at", "fresh", "future", "nonce", "rp_id", "serial", "used_at")

    def __init__(
        self,
        nonce: str,
        rp_id: str,
        serial: str,
        expires_at: datetime,
        used_at: datetime,
        *,
        done: threading.Lock | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> None:
        self.nonce = nonce
        self.rp_id = rp_id
        self.serial = serial
        self.expires_at = expires_at
        self.used_at = used_at
        self.fresh = False
        self.error: BaseException | None = None
        # A thread waits on a bare lock held until the commit (cheaper than an
        # Event); a coroutine awaits a future of its event loop instead.
        self.done = done
        self.future = future


def _settle(uses: list[_Use]) -> None:
    """Wake the coroutines of one batch, on their event loop's thread."""
    for use in uses:
        future = use.future
        if future is not None and not future.done():  # a cancelled caller is not answered
            future.set_result(None)


class UsedChallenges(GroupWriter[_Use]):
    """The durable, shared record of spent challenge nonces (使用済みチャレンジ)."""

    def __init__(self, engine: Engine, *, name: str = "kojin-auth-used-challenges") -> None:
        super().__init__(name)
        self._engine = engine
        dialect = engine.dialect
        if dialect.name == "sqlite":
            self._insert: Callable[[Any, list[_Use]], set[str]] = self._insert_sqlite
        elif dialect.name == "postgresql":
            self._insert = self._insert_postgresql
        else:
            raise ValueError(f"used challenges need SQLite or PostgreSQL, not {dialect.name}")
        # What Core would store for these columns (SQLite keeps datetimes as
        # text in SQLAlchemy's format); None where the driver adapts them.
        self._datetime_to_db: Callable[[Any], Any] | None = used_challenges.c.used_at.type.dialect_impl(
            dialect
        ).bind_processor(dialect)
        self._driver_error: type[Exception] = dialect.loaded_dbapi.Error
        self._raw: Any = None  # the writer's own pooled DBAPI connection
        self._isolation_level: str | None = None
        self._next_purge = time.monotonic() + _PURGE_EVERY_S
        self._io = threading.Lock()  # the writer's connection: one user at a time

    def record(self, nonce: str, rp_id: str, serial: str, expires_at: datetime, used_at: datetime) -> bool:
        """Spend ``nonce``: True once it is durably recorded by this call, False if it was spent before.

        Raises the database's error (nothing recorded, the caller must refuse)
        and :class:`~kojin.core.group_writer.WriterClosed` after :meth:`close`.
        """
        done = threading.Lock()
        done.acquire()
        use = _Use(nonce, rp_id, serial, expires_at, used_at, done=done)
        self._enqueue(use)
        done.acquire()
        if use.error is not None:
            raise use.error
        return use.fresh

    async def record_async(self, nonce: str, rp_id: str, serial: str, expires_at: datetime, used_at: datetime) -> bool:
        """:meth:`record` for a coroutine: the event loop goes on while the commit is made.

        A caller cancelled while waiting may still have spent its nonce: the
        challenge is then unusable, and its login was not accepted.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        use = _Use(nonce, rp_id, serial, expires_at, used_at, future=future)
        self._enqueue(use)
        await future
        if use.error is not None:
            raise use.error
        return use.fresh

    # -- the writer thread (GroupWriter's hooks) ----------------------------------

    def _commit_batch(self, batch: list[_Use]) -> None:
        # A nonce twice in one batch (the same answer posted twice at once):
        # the first may be fresh, every later one is a replay.
        first: dict[str, _Use] = {}
        for use in batch:
            first.setdefault(use.nonce, use)
        try:
            with self._io:
                fresh = self._insert(self._connection(), list(first.values()))
        except Exception as exc:
            self._drop_connection()
            log.warning("%s: a batch of %d was not recorded: %s", self._name, len(batch), type(exc).__name__)
            for use in batch:
                use.error = self._as_error(exc)
        else:
            self._commits += 1
            for use in first.values():
                use.fresh = use.nonce in fresh
        self._answer(batch)
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + _PURGE_EVERY_S
            self._purge_quietly()

    def _answer(self, batch: list[_Use]) -> None:
        # Coroutines are woken with one call per event loop per batch, not one
        # per caller: each call_soon_threadsafe writes to the loop's wake-up pipe.
        waiting: dict[asyncio.AbstractEventLoop, list[_Use]] = {}
        for use in batch:
            if use.done is not None:
                use.done.release()
            elif use.future is not None:
                waiting.setdefault(use.future.get_loop(), []).append(use)
        for loop, uses in waiting.items():
            try:
                loop.call_soon_threadsafe(_settle, uses)
            except RuntimeError:  # that loop is closed: nobody is left to answer
                log.info("event loop closed before %d answers", len(uses))

    def purge_expired(self, now: datetime | None = None) -> int:
        """Forget nonces whose challenge expired over an hour ago; how many rows went.

        The writer does this once a minute between batches; a chunk at a time,
        each chunk its own short transaction.
        """
        before = (now or datetime.now(UTC)) - KEEP_AFTER_EXPIRY
        gone = 0
        with self._io:
            conn = self._connection()
            while True:
                deleted = self._purge_chunk(conn, before)
                gone += max(0, deleted)
                if deleted < _PURGE_CHUNK:
                    return gone

    def _purge_chunk(self, conn: Any, before: datetime) -> int:
        if self._engine.dialect.name == "sqlite":
            to_db = self._datetime_to_db or str
            return int(conn.execute(_SQLITE_PURGE, (to_db(before),)).rowcount)
        with conn.cursor() as cursor:
            cursor.execute(_PG_PURGE, (before,))
            deleted = int(cursor.rowcount)
        conn.commit()
        return deleted

    def _purge_quietly(self) -> None:
        try:
            self.purge_expired()
        except Exception as exc:  # the next minute tries again; logins are unaffected
            self._drop_connection()
            log.warning("%s: purging expired nonces failed: %s", self._name, type(exc).__name__)

    def _insert_sqlite(self, conn: Any, uses: list[_Use]) -> set[str]:
        to_db = self._datetime_to_db or str
        rows = json.dumps([[u.nonce, u.rp_id, to_db(u.expires_at), u.serial, to_db(u.used_at)] for u in uses])
        # Usually no nonce of the batch was spent before: then the whole batch
        # is one statement in autocommit mode — insert, commit and fsync in a
        # single call, so the writer gives up and takes back the GIL once per
        # batch (each time it must win it back from the verifying threads).
        try:
            conn.execute(_SQLITE_INSERT, (rows,))
        except sqlite3.IntegrityError:
            pass  # the statement wrote nothing; find the spent nonces below
        else:
            return {u.nonce for u in uses}
        # A replay in the batch. BEGIN IMMEDIATE takes the store's write lock
        # before the look-up, so no other process can spend one of these
        # nonces between the look-up and the insert (were one to, the primary
        # key would still refuse it, and fail the batch rather than accept).
        conn.execute("BEGIN IMMEDIATE")
        try:
            spent = {row[0] for row in conn.execute(_SQLITE_SPENT, (json.dumps([u.nonce for u in uses]),))}
            new = [u for u in uses if u.nonce not in spent]
            if new:
                rows = json.dumps([[u.nonce, u.rp_id, to_db(u.expires_at), u.serial, to_db(u.used_at)] for u in new])
                conn.execute(_SQLITE_INSERT, (rows,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return {u.nonce for u in new}

    def _insert_postgresql(self, conn: Any, uses: list[_Use]) -> set[str]:
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    _PG_INSERT,
                    (
                        [u.nonce for u in uses],
                        [u.rp_id for u in uses],
                        [u.expires_at for u in uses],
                        [u.serial for u in uses],
                        [u.used_at for u in uses],
                    ),
                )
                fresh = {row[0] for row in cursor.fetchall()}
            conn.commit()
        except BaseException:
            try:
                conn.rollback()
            except Exception:  # a broken connection; it is dropped and the batch refused anyway
                log.debug("%s: rollback failed", self._name, exc_info=True)
            raise
        return fresh

    def _connection(self) -> Any:
        if self._raw is None:
            raw = self._engine.raw_connection()
            driver: Any = raw.driver_connection
            if self._engine.dialect.name == "sqlite":
                # Durability is this record's whole point, so it does not rely
                # on the engine's defaults: FULL syncs the WAL on every commit.
                driver.execute("PRAGMA synchronous=FULL")
                # Autocommit: a lone statement is its own durable transaction,
                # and any other is begun and ended explicitly (BEGIN IMMEDIATE).
                self._isolation_level = driver.isolation_level
                driver.isolation_level = None
            else:
                # The same on PostgreSQL: a commit returns once its WAL is flushed.
                with driver.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO on")
                driver.commit()
            self._raw = raw
        return self._raw.driver_connection

    def _writer_stopping(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            if self._engine.dialect.name == "sqlite":
                raw.driver_connection.isolation_level = self._isolation_level  # as the pool handed it out
            raw.close()

    def _drop_connection(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.invalidate()
            except Exception as exc:  # already broken; a fresh one is made for the next batch
                log.warning("%s: closing a failed connection: %s", self._name, type(exc).__name__)

    def _as_error(self, exc: Exception) -> BaseException:
        # Each waiting caller raises its own instance (tracebacks are per
        # raise), in SQLAlchemy's wrapping as Core would have raised it.
        if isinstance(exc, self._driver_error):
            return DBAPIError.instance(None, None, exc, self._driver_error)
        error = RuntimeError(f"{self._name}: the batch was not recorded ({type(exc).__name__})")
        error.__cause__ = exc
        return error
