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
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert

from kojin.core.errors import KojinError

__all__ = ["GroupCommit", "Row", "WriterClosed"]

log = logging.getLogger("kojin.group_commit")

Row = tuple[Table, Mapping[str, Any]]
"""One row to insert: the table and the column values."""


class WriterClosed(KojinError):
    """The store's writer has stopped (書込み停止中)."""

    status = 503


class _Pending:
    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self.done = threading.Event()
        self.error: BaseException | None = None


def _insert_all(conn: Connection, rows: Sequence[Row]) -> None:
    # Rows of one table with the same columns go in one executemany; the
    # grouping keeps first-appearance order so a parent row written by a
    # caller before its child still lands first.
    groups: dict[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for table, values in rows:
        groups.setdefault((table, tuple(values)), []).append(values)
    for (table, _columns), values_list in groups.items():
        conn.execute(insert(table), list(values_list))


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
        if not rows:
            return
        pending = _Pending(rows)
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
        pending.done.wait()
        if pending.error is not None:
            raise pending.error

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
                pending.done.set()

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            with self._conn.begin():
                _insert_all(self._conn, [row for pending in batch for row in pending.rows])
        except Exception:
            self._drop_connection()
            if len(batch) > 1:
                log.info("%s: a batch of %d failed; retrying each caller alone", self._name, len(batch))
            for pending in batch:
                try:
                    with self._engine.begin() as conn:
                        _insert_all(conn, pending.rows)
                except Exception as exc:
                    pending.error = exc
        for pending in batch:
            pending.done.set()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception as exc:  # already broken; a fresh one is made for the next batch
                log.warning("%s: closing a failed connection: %s", self._name, type(exc).__name__)
