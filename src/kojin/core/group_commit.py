"""Group commit (グループコミット): many callers' inserts share one durable commit.

Records that must be durable before a caller is answered (the §23 logs of the
hub and of every agency, the hub's used request ids) would otherwise cost one
fsync each, which caps a store at a few hundred writes a second. A
:class:`GroupCommit` gives one store a single writer thread:

1. :meth:`GroupCommit.write` adds the caller's rows to the *open batch* and
   waits. The first caller of a batch wakes the writer.
2. The writer swaps the open batch for a fresh one (callers arriving now queue
   for the next commit), inserts every row of the batch in one transaction,
   commits — one fsync for all of them — and wakes the batch's callers.

There is no timer: while one commit is in flight the next batch fills by
itself, so a lone caller waits for one commit and a crowd shares them.

A caller on an event loop that does not block (:meth:`GroupCommit.submit`,
:meth:`~GroupCommit.write_later`) does not wake the writer itself: the first
one in a pass of the loop schedules the wake-up for the end of that pass, so
everything the loop's ready tasks queue in one pass shares one commit and one
wake-up, instead of the writer starting on the first row and the rest
waiting for the next commit. Waiting on a ticket wakes the writer at once, so
a caller that blocks after all cannot wait for a pass that never ends.

:meth:`GroupCommit.submit` queues rows and returns a :class:`Ticket` to wait
on later, so a caller can overlap this commit with other work (the hub lets a
provider's record commit while the exchange's leaf commits).

A writer made with ``durable=False`` is for rows that are a derived record of
something already durable elsewhere and are rebuilt from it after a crash
(the hub's own §23 records, rebuilt from the exchange log). Its commits skip
the fsync (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit =
off``): they survive the process being killed, not necessarily the machine
losing power, and cost a tenth as much. With ``linger`` it also waits that
long after each commit so that rows nobody waits for share fewer commits; a
caller that does wait (:meth:`~GroupCommit.write`, :meth:`~GroupCommit.flush`)
cuts the wait short.

One caller's bad rows must not fail the others: when a batch fails (a unique
key clash, say) each caller's rows are retried in a transaction of their own,
and only the callers whose own rows fail get the exception.

Nothing here knows what the rows mean; any party may use it for any table.

:class:`ThreadReaders` is the read side of the same hot paths.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table
from sqlalchemy.exc import DBAPIError

from kojin.core.bulk import select_in_statement, select_in_values
from kojin.core.errors import KojinError

__all__ = ["Done", "GroupCommit", "Row", "ThreadReaders", "Ticket", "WriterClosed", "driver_sql"]

log = logging.getLogger("kojin.group_commit")

Row = tuple[Table, Mapping[str, Any]]
"""One row to insert: the table and the column values."""


class WriterClosed(KojinError):
    """The store's writer has stopped (書込み停止中)."""

    status = 503


Done = Callable[[BaseException | None], None]
"""Called by the writer once rows given to :meth:`GroupCommit.write_later` are committed (or not)."""


class Ticket:
    """Rows queued for a commit (:meth:`GroupCommit.submit`): wait for it, or be told.

    :meth:`wait` blocks a thread; :meth:`then` registers a callback the
    writer runs after the commit (for an event loop that must not block).
    """

    __slots__ = ("_done", "_finished", "_then", "_writer", "error", "on_done", "rows")

    # Guards registering callbacks against the writer finishing: held for a
    # few instructions, so one for every ticket costs nothing measurable.
    _guard = threading.Lock()

    def __init__(self, rows: Sequence[Row], on_done: Done | None = None, writer: GroupCommit | None = None) -> None:
        self.rows = rows
        self.on_done = on_done
        self._writer = writer
        # A bare lock held until the commit: cheaper to wait on than an Event.
        self._done = threading.Lock()
        self._done.acquire()
        self._finished = False
        self._then: list[Done] | None = None
        self.error: BaseException | None = None

    def wait(self) -> None:
        """Block until the rows are committed; raise the database's error if they were not."""
        if not self._finished and self._writer is not None:
            self._writer._start_now()  # queued from an event loop whose pass may be this very call
        self._done.acquire()
        self._done.release()  # a second wait (or a late one) returns at once
        if self.error is not None:
            raise self.error

    def then(self, done: Done) -> None:
        """``done(error)`` once the rows are committed (at once if they already are)."""
        with Ticket._guard:
            if not self._finished:
                if self._then is None:
                    self._then = []
                self._then.append(done)
                return
        done(self.error)

    def finish(self) -> None:
        with Ticket._guard:
            self._finished = True
            callbacks, self._then = self._then, None
        for callback in (self.on_done, *(callbacks or ())):
            if callback is None:
                continue
            try:
                callback(self.error)
            except Exception:  # a callback's failure must not stop the writer
                log.exception("group-commit callback failed")
        self._done.release()


# Rows per multi-row INSERT: within SQLite's 32,766 and PostgreSQL's 65,535
# parameters per statement for any of the tables written this way.
_VALUES_ROWS = 500


@functools.lru_cache(maxsize=512)
def _insert_plan(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, str, tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """The INSERT prefix, one row's placeholders and the columns' bind processors, once per shape."""
    processors = tuple(
        (i, proc)
        for i, c in enumerate(columns)
        if (proc := table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    prefix = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    return prefix, f"({', '.join([mark] * len(columns))})", processors


@functools.lru_cache(maxsize=1024)
def _values_sql(prefix: str, row: str, count: int) -> str:
    return prefix + ", ".join([row] * count)


def _insert_all(dialect: Dialect, driver: Any, rows: Sequence[Row]) -> None:
    # Rows of one table with the same columns go in one multi-row INSERT on
    # the driver's own cursor, inside the connection's transaction:
    # SQLAlchemy's per-statement work would cost more than the commit, and
    # executemany would release and retake the GIL (SQLite) or make a round
    # trip (PostgreSQL) per row. Each value still passes through its column
    # type's bind processor, so what lands is what Core would have written.
    # First-appearance order is kept, so a parent row written by a caller
    # before its child still lands first.
    groups: dict[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for table, values in rows:
        groups.setdefault((table, tuple(values)), []).append(values)
    driver_error: type[Exception] = dialect.loaded_dbapi.Error
    cursor = driver.cursor()
    try:
        for (table, columns), values_list in groups.items():
            prefix, placeholders, processors = _insert_plan(table, columns, dialect)
            for start in range(0, len(values_list), _VALUES_ROWS):
                chunk = values_list[start : start + _VALUES_ROWS]
                params: list[Any] = []
                for values in chunk:
                    row = [values[c] for c in columns]
                    for i, process in processors:
                        row[i] = process(row[i])
                    params += row
                sql = _values_sql(prefix, placeholders, len(chunk))
                try:
                    cursor.execute(sql, params)
                except driver_error as exc:
                    # Callers catch SQLAlchemy's exceptions (IntegrityError …), as
                    # they would from Core: wrap the driver's the way Core does.
                    raise DBAPIError.instance(sql, None, exc, driver_error) from exc
    finally:
        cursor.close()


class GroupCommit:
    """The single writer of one store for rows that must be durable before an answer."""

    def __init__(
        self, engine: Engine, *, name: str = "kojin-group-commit", durable: bool = True, linger: float = 0.0
    ) -> None:
        if durable and linger:
            raise ValueError("linger is for writers of derived rows (durable=False) only")
        self._engine = engine
        self._name = name
        self._durable = durable
        self._linger = linger
        self._cv = threading.Condition(threading.Lock())
        self._open: list[Ticket] = []
        self._go = False  # the open batch may be committed (someone asked, or a loop's pass ended)
        self._waited = False  # someone in the open batch waits for it: no lingering
        # The event loop that will say go at the end of its pass. Kept per loop: a
        # loop closed before it ran its wake-up must not hold off every other.
        self._kick_due: asyncio.AbstractEventLoop | None = None
        self._closing = False
        # Started on first use: a store nobody writes to costs no thread.
        self._thread: threading.Thread | None = None
        # The writer's own driver connection, outside the engine's pool (so a
        # non-durable setting never reaches anyone else): begin and commit at
        # the driver cost a fraction of a SQLAlchemy transaction's.
        self._raw: Any = None
        self._commits = 0

    @property
    def durable(self) -> bool:
        return self._durable

    @property
    def commit_count(self) -> int:
        """Transactions committed so far: rows / commits is the mean group size."""
        return self._commits

    def write(self, rows: Sequence[Row]) -> None:
        """Insert ``rows`` in one transaction shared with other callers; return once committed.

        Raises the database's exception if these rows (not someone else's)
        cannot be written, and :class:`WriterClosed` after :meth:`close`.
        """
        self._enqueue(rows, None, waited=True, blocking=True).wait()

    def submit(self, rows: Sequence[Row]) -> Ticket:
        """Queue ``rows`` for the next commit and return at once; the ticket tells when it is done."""
        return self._enqueue(rows, None, waited=True, blocking=False)

    def write_later(self, rows: Sequence[Row], on_done: Done | None = None) -> None:
        """Queue ``rows`` for the next commit and return at once; ``on_done(error)`` follows it.

        For rows that are a derived record of something already durable
        elsewhere (and can be rebuilt from it after a crash).
        """
        self._enqueue(rows, on_done, waited=False, blocking=False)

    def flush(self) -> None:
        """Wait until everything queued before this call is committed."""
        self.write([])

    def _enqueue(self, rows: Sequence[Row], on_done: Done | None, *, waited: bool, blocking: bool) -> Ticket:
        ticket = Ticket(rows, on_done, self)
        loop = None if blocking else asyncio._get_running_loop()
        with self._cv:
            if self._closing:
                raise WriterClosed(
                    "store.writer_closed", "書込みは停止しています。", "The store's writer has been closed."
                )
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._open.append(ticket)
            lingering = waited and not self._waited and self._go
            if waited:
                self._waited = True
            if loop is None:
                if not self._go or lingering:
                    self._go = True
                    self._cv.notify()
                return ticket
            schedule = self._kick_due is not loop
            self._kick_due = loop
        if schedule:
            loop.call_soon(self._kick, loop)
        return ticket

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        """The end of an event loop's pass: commit what it queued."""
        with self._cv:
            if self._kick_due is loop:
                self._kick_due = None
            # Only with rows open: a go left standing over an empty batch
            # would let the next rows in without anyone waking the writer.
            if self._open and (not self._go or self._waited):
                self._go = True
                self._cv.notify()

    def _start_now(self) -> None:
        with self._cv:
            if self._open and not (self._go and self._waited):
                self._go = self._waited = True
                self._cv.notify()

    def close(self) -> None:
        """Commit what callers already wait for, then stop the writer."""
        with self._cv:
            self._closing = True
            self._cv.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        try:
            while True:
                with self._cv:
                    while not (self._open and self._go) and not self._closing:
                        self._cv.wait()
                    if self._linger and not self._waited and not self._closing:
                        # Only derived rows so far: let more join this commit,
                        # until someone waits for it (or close).
                        deadline = time.monotonic() + self._linger
                        while not self._waited and not self._closing:
                            left = deadline - time.monotonic()
                            if left <= 0:
                                break
                            self._cv.wait(left)
                    batch, self._open, self._waited, self._go = self._open, [], False, False
                if not batch:
                    return
                self._commit(batch)
        finally:
            self._drop_connection()
            with self._cv:
                self._closing = True
                orphans, self._open = self._open, []
            for ticket in orphans:
                ticket.error = WriterClosed(
                    "store.writer_closed", "書込みは停止しています。", "The store's writer has stopped."
                )
                ticket.finish()

    def _connection(self) -> Any:
        if self._raw is None:
            raw = self._engine.raw_connection()
            raw.detach()  # never handed back to the pool, so its settings stay its own
            if not self._durable:
                cursor = raw.cursor()
                try:
                    if self._engine.dialect.name == "sqlite":
                        cursor.execute("PRAGMA synchronous=NORMAL")
                    elif self._engine.dialect.name == "postgresql":
                        cursor.execute("SET synchronous_commit TO OFF")
                finally:
                    cursor.close()
                raw.commit()
            self._raw = raw
        return self._raw

    def _commit(self, batch: list[Ticket]) -> None:
        rows = [row for ticket in batch for row in ticket.rows]
        if rows:
            try:
                raw = self._connection()
                try:
                    _insert_all(self._engine.dialect, raw.dbapi_connection, rows)
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
                self._commits += 1
            except Exception:
                self._drop_connection()
                if len(batch) > 1:
                    log.info("%s: a batch of %d failed; retrying each caller alone", self._name, len(batch))
                for ticket in batch:
                    if not ticket.rows:
                        continue
                    try:
                        raw = self._connection()
                        try:
                            _insert_all(self._engine.dialect, raw.dbapi_connection, ticket.rows)
                            raw.commit()
                        except BaseException:
                            raw.rollback()
                            raise
                    except Exception as exc:
                        ticket.error = exc
                        self._drop_connection()
        for ticket in batch:
            ticket.finish()

    def _drop_connection(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.close()
            except Exception as exc:  # already broken; a fresh one is made for the next batch
                log.warning("%s: closing a failed connection: %s", self._name, type(exc).__name__)


class ThreadReaders:
    """Point reads on a hot path, straight through the driver.

    On SQLite each thread keeps its own read-only connection to the store's
    file, outside the engine's pool: under many threads the pool's overflow
    connections would be opened and closed again on every read (costing more
    than the read), and holding pool connections per thread would exhaust it.
    Each read is its own statement in autocommit mode, so it sees everything
    committed before it, by this process or another. On PostgreSQL the
    engine's pool is used: a server connection per thread would not scale.

    A Core ``select()`` costs ~85 µs of Python per call where the driver's own
    execute costs ~10–20; on a path that runs several times per exchange that
    is most of the budget. Statements use ``?`` placeholders; they become
    ``%s`` for drivers with the format style.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        url = engine.url
        self._sqlite_path = url.database if url.get_backend_name() == "sqlite" and url.database else None
        if self._sqlite_path == ":memory:":
            self._sqlite_path = None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def first(self, statement: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of a SELECT, or None."""
        if self._sqlite_path is None:
            with self._engine.connect() as pooled:
                row = driver_sql(pooled, statement, params).first()
            return None if row is None else tuple(row)
        found: tuple[Any, ...] | None = self._sqlite().execute(statement, params).fetchone()
        return found

    def select_in(
        self,
        table: str,
        columns: Sequence[str],
        key: str,
        values: Sequence[str],
        *,
        where: str = "",
        params: tuple[Any, ...] = (),
    ) -> list[tuple[Any, ...]]:
        """:func:`kojin.core.bulk.select_in` on these readers: a batch's look-ups in one statement.

        ``where`` may hold ``?`` marks, bound to ``params``.
        """
        if not values:
            return []
        dialect = "sqlite" if self._sqlite_path is not None else self._engine.dialect.name
        statement = select_in_statement(dialect, table, columns, key, where)
        bound = (select_in_values(dialect, values), *params)
        if self._sqlite_path is None:
            with self._engine.connect() as pooled:
                return [tuple(row) for row in driver_sql(pooled, statement, bound)]
        rows: list[tuple[Any, ...]] = self._sqlite().execute(statement, bound).fetchall()
        return rows

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self._sqlite_path is not None
            conn = sqlite3.connect(self._sqlite_path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()


def driver_sql(conn: Connection, statement: str, params: tuple[Any, ...]) -> Any:
    """Run a hand-written statement with ``?`` placeholders straight through the driver."""
    if conn.dialect.paramstyle != "qmark":
        statement = statement.replace("?", "%s")
    return conn.exec_driver_sql(statement, params)
