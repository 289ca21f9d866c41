"""Group commit of rows (グループコミット): many callers' inserts share one durable commit.

The records that must be durable before a caller is answered — the §23 logs of
the hub and of every agency, the hub's used request ids — are rows of a table.
A :class:`GroupCommit` is a :class:`~kojin.core.group_writer.GroupWriter` for
rows: its writer thread inserts every row of a batch in one transaction and
commits, one fsync for all of them, then wakes the batch's callers. (The
writer's lifecycle and its wake-up rule are :mod:`kojin.core.group_writer`'s.)

:meth:`GroupCommit.write` waits for the commit. :meth:`GroupCommit.submit`
queues rows and returns a :class:`Ticket` to wait on later, so a caller can
overlap this commit with other work (the hub lets a provider's record commit
while the exchange's leaf commits). It and :meth:`~GroupCommit.write_later`,
called on an event loop, wake the writer at the end of the loop's pass, so
that everything the pass queues shares one commit. Waiting on a ticket wakes
the writer at once, so a caller that blocks after all cannot wait for a pass
that never ends.

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

import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table
from sqlalchemy.exc import DBAPIError

from kojin.core.bulk import select_in_statement, select_in_values
from kojin.core.group_writer import GroupWriter, WriterClosed

__all__ = ["Done", "GroupCommit", "Row", "ThreadReaders", "Ticket", "WriterClosed", "driver_sql"]

log = logging.getLogger("kojin.group_commit")

Row = tuple[Table, Mapping[str, Any]]
"""One row to insert: the table and the column values."""


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


class GroupCommit(GroupWriter[Ticket]):
    """The single writer of one store for rows that must be durable before an answer."""

    def __init__(
        self, engine: Engine, *, name: str = "kojin-group-commit", durable: bool = True, linger: float = 0.0
    ) -> None:
        if durable and linger:
            raise ValueError("linger is for writers of derived rows (durable=False) only")
        super().__init__(name, linger=linger)
        self._engine = engine
        self._durable = durable
        # The writer's own driver connection, outside the engine's pool (so a
        # non-durable setting never reaches anyone else): begin and commit at
        # the driver cost a fraction of a SQLAlchemy transaction's.
        self._raw: Any = None

    @property
    def durable(self) -> bool:
        return self._durable

    def write(self, rows: Sequence[Row]) -> None:
        """Insert ``rows`` in one transaction shared with other callers; return once committed.

        Raises the database's exception if these rows (not someone else's)
        cannot be written, and :class:`WriterClosed` after :meth:`close`.
        """
        ticket = Ticket(rows, None, self)
        self._enqueue(ticket)
        ticket.wait()

    def submit(self, rows: Sequence[Row]) -> Ticket:
        """Queue ``rows`` for the next commit and return at once; the ticket tells when it is done."""
        ticket = Ticket(rows, None, self)
        self._enqueue(ticket, end_of_pass=True)
        return ticket

    def write_later(self, rows: Sequence[Row], on_done: Done | None = None) -> None:
        """Queue ``rows`` for the next commit and return at once; ``on_done(error)`` follows it.

        For rows that are a derived record of something already durable
        elsewhere (and can be rebuilt from it after a crash).
        """
        self._enqueue(Ticket(rows, on_done, self), waited=False, end_of_pass=True)

    def flush(self) -> None:
        """Wait until everything queued before this call is committed."""
        self.write([])

    # -- the writer thread (GroupWriter's hooks) ----------------------------------

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

    def _commit_batch(self, batch: list[Ticket]) -> None:
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
        self._answer(batch)

    def _answer(self, batch: list[Ticket]) -> None:
        for ticket in batch:
            ticket.finish()

    def _writer_stopping(self) -> None:
        self._drop_connection()

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
