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

from kojin.core.errors import KojinError

__all__ = ["Done", "GroupCommit", "Row", "ThreadReaders", "WriterClosed", "driver_sql"]

log = logging.getLogger("kojin.group_commit")

Row = tuple[Table, Mapping[str, Any]]
"""One row to insert: the table and the column values."""


class WriterClosed(KojinError):
    """The store's writer has stopped (書込み停止中)."""

    status = 503


Done = Callable[[BaseException | None], None]
"""Called by the writer once rows given to :meth:`GroupCommit.write_later` are committed (or not)."""


class _Pending:
    __slots__ = ("done", "error", "on_done", "rows")

    def __init__(self, rows: Sequence[Row], on_done: Done | None = None) -> None:
        self.rows = rows
        self.on_done = on_done
        # A bare lock held until the commit: cheaper to wait on than an Event.
        self.done = threading.Lock()
        self.done.acquire()
        self.error: BaseException | None = None

    def finish(self) -> None:
        if self.on_done is not None:
            try:
                self.on_done(self.error)
            except Exception:  # a callback's failure must not stop the writer
                log.exception("group-commit callback failed")
        self.done.release()


@functools.lru_cache(maxsize=512)
def _insert_plan(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """The INSERT statement and the columns' bind processors, worked out once per shape."""
    processors = tuple(
        (i, proc) for i, c in enumerate(columns)
        if (proc := table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    return sql, processors


def _insert_all(conn: Connection, rows: Sequence[Row]) -> None:
    # Rows of one table with the same columns go in one executemany on the
    # driver's own cursor, inside the connection's transaction: SQLAlchemy's
    # per-statement work would cost more than the commit. Each value still
    # passes through its column type's bind processor, so what lands is what
    # Core would have written. First-appearance order is kept, so a parent row
    # written by a caller before its child still lands first.
    groups: dict[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for table, values in rows:
        groups.setdefault((table, tuple(values)), []).append(values)
    dialect = conn.dialect
    driver_error: type[Exception] = dialect.loaded_dbapi.Error
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for (table, columns), values_list in groups.items():
            sql, processors = _insert_plan(table, columns, dialect)
            params = []
            for values in values_list:
                row = [values[c] for c in columns]
                for i, process in processors:
                    row[i] = process(row[i])
                params.append(row)
            try:
                cursor.executemany(sql, params)
            except driver_error as exc:
                # Callers catch SQLAlchemy's exceptions (IntegrityError …), as
                # they would from Core: wrap the driver's the way Core does.
                raise DBAPIError.instance(sql, None, exc, driver_error) from exc
    finally:
        cursor.close()


class GroupCommit:
    """The single writer of one store for rows that must be durable before an answer."""

    def __init__(self, engine: Engine, *, name: str = "kojin-group-commit") -> None:
        self._engine = engine
        self._name = name
        self._cv = threading.Condition(threading.Lock())
        self._open: list[_Pending] = []
        self._closing = False
        # Started on first use: a store nobody writes to costs no thread.
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None

    def write(self, rows: Sequence[Row]) -> None:
        """Insert ``rows`` in one transaction shared with other callers; return once committed.

        Raises the database's exception if these rows (not someone else's)
        cannot be written, and :class:`WriterClosed` after :meth:`close`.
        """
        pending = self._enqueue(rows, None)
        pending.done.acquire()
        if pending.error is not None:
            raise pending.error

    def write_later(self, rows: Sequence[Row], on_done: Done | None = None) -> None:
        """Queue ``rows`` for the next commit and return at once; ``on_done(error)`` follows it.

        For rows that are a derived record of something already durable
        elsewhere (and can be rebuilt from it after a crash).
        """
        self._enqueue(rows, on_done)

    def flush(self) -> None:
        """Wait until everything queued before this call is committed."""
        self.write([])

    def _enqueue(self, rows: Sequence[Row], on_done: Done | None) -> _Pending:
        pending = _Pending(rows, on_done)
        with self._cv:
            if self._closing:
                raise WriterClosed(
                    "store.writer_closed", "書込みは停止しています。", "The store's writer has been closed."
                )
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._open.append(pending)
            if len(self._open) == 1:
                self._cv.notify()
        return pending

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
                    while not self._open and not self._closing:
                        self._cv.wait()
                    batch, self._open = self._open, []
                if not batch:
                    return
                self._commit(batch)
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            with self._cv:
                self._closing = True
                orphans, self._open = self._open, []
            for pending in orphans:
                pending.error = WriterClosed(
                    "store.writer_closed", "書込みは停止しています。", "The store's writer has stopped."
                )
                pending.finish()

    def _commit(self, batch: list[_Pending]) -> None:
        rows = [row for pending in batch for row in pending.rows]
        if rows:
            try:
                if self._conn is None:
                    self._conn = self._engine.connect()
                with self._conn.begin():
                    _insert_all(self._conn, rows)
            except Exception:
                self._drop_connection()
                if len(batch) > 1:
                    log.info("%s: a batch of %d failed; retrying each caller alone", self._name, len(batch))
                for pending in batch:
                    if not pending.rows:
                        continue
                    try:
                        with self._engine.begin() as conn:
                            _insert_all(conn, pending.rows)
                    except Exception as exc:
                        pending.error = exc
        for pending in batch:
            pending.finish()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
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
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._sqlite_path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        found: tuple[Any, ...] | None = conn.execute(statement, params).fetchone()
        return found

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
