"""The exchange log's writer: durable appends with group commit (グループコミット).

:meth:`LogWriter.append` returns only after the transaction holding the leaf
has committed, and the stores commit durably (SQLite WAL with
``synchronous=FULL``; PostgreSQL's default ``synchronous_commit``), so an
acknowledged leaf survives a crash of the process or the machine.

Committing each leaf on its own would cap the log at one fsync per append. So
all writes go through one writer thread (:class:`~kojin.core.group_writer.GroupWriter`):

1. A caller hashes its leaf, adds it to the *open batch* (waking the writer if
   nobody has yet) and blocks on a lock of its own that the writer will
   release. :meth:`~LogWriter.append_many` adds all its leaves as one piece of
   the batch, so they commit together and get consecutive indexes.
2. The writer swaps the open batch for a fresh one, so callers arriving now
   queue for the next commit, appends the batch's hashes to the in-memory tree,
   inserts the leaf and node rows in one transaction, and commits: one fsync
   for the whole batch.
3. Only after the commit does it publish the new size (proofs and tree heads
   only ever cover committed leaves) and wake the batch's callers, who then
   return their receipts. The wake-up is deferred until the *next* batch's
   rows have been inserted, just before its commit: the woken callers then
   run while that fsync has released the GIL, rather than fighting the
   writer for the GIL while it builds the transaction.

There is no timer: while one commit is in flight the next batch fills by
itself, so a lone caller waits for a single commit (about 0.4 ms on SQLite)
and a crowd shares them. With 16 appending threads on 2 cores the callers
settle into two alternating groups of about 8 per commit; that gives about
20,000 durable appends a second on SQLite (``bench/log_probe.py``). The
limit is CPython: every append costs some tens of microseconds under the GIL.

If the commit fails, the in-memory tree is cut back to what is in the
database (re-reading anything a commit of unknown outcome did write) and every
caller of the batch gets :class:`LogUnavailable`; its leaves may or may not be
in the log — never acknowledged and lost.

One process should write one log. A second writer on the same store cannot
corrupt it: every index is a primary key, so a batch whose indexes the other
took first fails to insert; the writer then re-reads the tree and stages the
batch after the other's leaves (a few times at most). That is for the odd
command run beside a server (a staff look recorded from the CLI); a steady
second writer wastes commits — run the log in one process and reach it through
the hub.
"""

from __future__ import annotations

import logging
from _thread import LockType, allocate_lock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import IntegrityError

from kojin.audit import reasons
from kojin.audit.log_tree import CommittedTree
from kojin.audit.merkle import hash_leaf
from kojin.audit.reasons import LogUnavailable
from kojin.core.group_writer import GroupWriter

__all__ = [
    "MAX_LEAF_BYTES",
    "AppendDone",
    "AppendManyDone",
    "AppendReceipt",
    "LeafTag",
    "LogUnavailable",
    "LogWriter",
]

log = logging.getLogger("kojin.audit")

MAX_LEAF_BYTES: Final = 1 << 20
"""Largest leaf accepted: a record of one exchange, not a document store."""


# A batch whose indexes another process took first is staged again after theirs, this many times.
_CONFLICT_RETRIES: Final = 3


def _is_conflict(exc: BaseException | None) -> bool:
    """A clash on a primary key, through SQLAlchemy or straight from the driver (DB-API's IntegrityError)."""
    if isinstance(exc, IntegrityError):
        return True
    return exc is not None and type(exc).__name__ in ("IntegrityError", "UniqueViolation")


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    """Where a durably committed leaf landed (記録受領): its index and leaf hash."""

    index: int
    leaf_hash: bytes


LeafTag = tuple[bytes, str, str]
"""A leaf's row in the person index (``leaf_tags``): the person's tag, the requester and the provider."""

AppendDone = Callable[["AppendReceipt | None", "BaseException | None"], None]
"""Told once an entry given to :meth:`LogWriter.append_then` is durable (or could not be written)."""

AppendManyDone = Callable[["list[AppendReceipt] | None", "BaseException | None"], None]
"""Told once the entries given to :meth:`LogWriter.append_many_then` are durable (or were not written)."""


class _Append:
    """One caller's leaves in a batch, and how to tell the caller.

    A lone leaf comes as one-item tuples rather than lists: thousands of
    appends may be pending, and tuples of bytes drop out of the garbage
    collector's passes, which lists kept alive that long would slow.
    """

    __slots__ = ("data", "done", "error", "first_index", "hashes", "tags", "waiter")

    def __init__(
        self,
        data: Sequence[bytes],
        hashes: Sequence[bytes],
        waiter: LockType | None,
        done: AppendDone | None,
        tags: Sequence[LeafTag | None] | None = None,
    ) -> None:
        self.data = data
        self.hashes = hashes
        # Parallel to ``data`` when any leaf is about a person; None (the
        # common refusal, and every caller but the hub) costs nothing.
        self.tags = tags
        # A held lock released to wake a blocking caller: much cheaper than an
        # Event (a Condition underneath), which shows at tens of thousands of
        # wake-ups a second. A caller that does not block has ``done``.
        self.waiter = waiter
        self.done = done
        self.first_index = -1
        self.error: BaseException | None = None


def _write_failed(cause: BaseException) -> LogUnavailable:
    error = reasons.WRITE_FAILED.error()
    error.__cause__ = cause
    return error


def check_leaf(data: object) -> bytes:
    """The bytes of a leaf a caller gives, or ``InvalidInput``."""
    if type(data) is bytes and len(data) <= MAX_LEAF_BYTES:
        return data  # the common case, without a copy
    if not isinstance(data, bytes | bytearray | memoryview):
        raise reasons.BAD_LEAF.error()
    raw = bytes(data)
    if len(raw) > MAX_LEAF_BYTES:
        raise reasons.LEAF_TOO_LARGE.error(max_leaf_bytes=MAX_LEAF_BYTES)
    return raw


def _tags(tags: Sequence[LeafTag | None] | None, count: int = 1) -> Sequence[LeafTag | None] | None:
    """The index rows given with ``count`` leaves, checked; None when there are none."""
    if tags is None or not any(tags):
        return None
    if len(tags) != count:
        raise reasons.BAD_LEAF_TAG.error()
    for tag in tags:
        if tag is not None and not (
            len(tag) == 3
            and isinstance(tag[0], bytes)
            and len(tag[0]) == 32
            and all(isinstance(a, str) for a in tag[1:])
        ):
            raise reasons.BAD_LEAF_TAG.error()
    return tags


def _tag_rows(batch: list[_Append]) -> list[tuple[bytes, int, str, str]]:
    """The batch's ``leaf_tags`` rows, once its indexes are assigned."""
    rows: list[tuple[bytes, int, str, str]] = []
    for entry in batch:
        if entry.tags is not None:
            rows += [
                (tag[0], entry.first_index + i, tag[1][:64], tag[2][:64])
                for i, tag in enumerate(entry.tags)
                if tag is not None
            ]
    return rows


class LogWriter(GroupWriter[_Append]):
    """The single writer of one exchange log's leaves into ``tree`` and its store."""

    def __init__(self, engine: Engine, tree: CommittedTree) -> None:
        super().__init__("kojin-audit-writer")
        self._engine = engine
        self._tree = tree
        # The writer's own connection, kept for the life of the log: checking
        # one out of the pool per batch costs more than SQLite's commit.
        self._conn: Connection | None = None
        # A committed batch whose callers have not been woken yet. Waking them
        # is deferred until the next batch's rows are written, so that the
        # woken callers' Python work overlaps the next fsync (which releases
        # the GIL) instead of competing with the writer for the GIL while it
        # builds the next transaction; it costs them the few tens of
        # microseconds that building takes.
        self._unannounced: list[_Append] | None = None

    # -- callers -----------------------------------------------------------

    def append(self, leaf_data: bytes, tag: LeafTag | None = None) -> AppendReceipt:
        """Log one entry; return once it is durably committed.

        ``tag`` puts the leaf in the person index in the same transaction.
        """
        data = check_leaf(leaf_data)
        leaf_hash = hash_leaf(data)
        return AppendReceipt(self._wait((data,), (leaf_hash,), _tags((tag,))), leaf_hash)

    def append_many(
        self, leaf_data: Sequence[bytes], tags: Sequence[LeafTag | None] | None = None
    ) -> list[AppendReceipt]:
        """Log several entries in one transaction, at consecutive indexes (``tags`` parallel to them)."""
        data = [check_leaf(d) for d in leaf_data]
        if not data:
            return []
        hashes = [hash_leaf(d) for d in data]
        first = self._wait(data, hashes, _tags(tags, len(data)))
        return [AppendReceipt(first + i, h) for i, h in enumerate(hashes)]

    def append_then(self, leaf_data: bytes, done: AppendDone, tag: LeafTag | None = None) -> None:
        """Log one entry without blocking: ``done(receipt, None)`` runs once it is durable.

        ``done(None, error)`` if it could not be written. It runs on the
        log's writer thread, so it must only hand the result on (to an event
        loop, say), never block. On an event loop the writer is woken at the
        end of the loop's pass, so that every leaf the pass appends shares one
        commit.
        """
        data = check_leaf(leaf_data)
        self._enqueue(_Append((data,), (hash_leaf(data),), None, done, _tags((tag,))), end_of_pass=True)

    def append_many_then(
        self, leaf_data: Sequence[bytes], done: AppendManyDone, tags: Sequence[LeafTag | None] | None = None
    ) -> None:
        """:meth:`append_many` without blocking: ``done(receipts, None)`` once all are durable.

        The entries go into one commit at consecutive indexes (``done(None,
        error)`` if it failed); ``done`` runs as :meth:`append_then`'s does.
        """
        data = [check_leaf(d) for d in leaf_data]
        if not data:
            done([], None)
            return
        hashes = [hash_leaf(d) for d in data]
        checked = _tags(tags, len(data))

        def first(receipt: AppendReceipt | None, error: BaseException | None) -> None:
            if receipt is None:
                done(None, error)
            else:
                done([AppendReceipt(receipt.index + i, h) for i, h in enumerate(hashes)], None)

        self._enqueue(_Append(data, hashes, None, first, checked), end_of_pass=True)

    def _wait(self, data: Sequence[bytes], hashes: Sequence[bytes], tags: Sequence[LeafTag | None] | None) -> int:
        """Join the open batch and wait until it is durable; the index of our first leaf."""
        waiter = allocate_lock()
        waiter.acquire()
        entry = _Append(data, hashes, waiter, None, tags)
        self._enqueue(entry)
        waiter.acquire()
        if entry.error is not None:
            raise _write_failed(entry.error)
        return entry.first_index

    # -- the writer thread (GroupWriter's hooks) ---------------------------

    def _closed_error(self) -> BaseException:
        return reasons.LOG_CLOSED.error()

    def _stopped_error(self) -> BaseException:
        return RuntimeError("exchange-log writer stopped")

    def _commit_batch(self, batch: list[_Append]) -> None:
        for attempt in range(_CONFLICT_RETRIES + 1):
            last = attempt == _CONFLICT_RETRIES
            transaction = self._stage(batch, quiet_conflict=not last)
            if transaction is not None or last or not _is_conflict(batch[0].error):
                break
            # Another process appended first (a command beside a running server): the
            # indexes it took are taken; the tree is re-read, and the batch goes after them.
            for entry in batch:
                entry.error = None
        if self._unannounced is not None:
            self._answer_deferred()
        if transaction is not None and self._finish(batch, transaction):
            self._unannounced = batch

    def _stage(self, batch: list[_Append], *, quiet_conflict: bool = False) -> RootTransaction | None:
        """Add the batch to the tree and insert its rows in an open transaction."""
        try:
            index = self._tree.next_index
            if len(batch) == 1:
                entry = batch[0]
                entry.first_index = index
                data, hashes = entry.data, entry.hashes
            else:
                data, hashes = [], []
                for entry in batch:
                    entry.first_index = index
                    index += len(entry.hashes)
                    data += entry.data
                    hashes += entry.hashes
            self._tree.extend(hashes)
            if self._conn is None:
                self._conn = self._engine.connect()
            transaction = self._conn.begin()
            self._tree.write_pending(self._conn, data, datetime.now(UTC), _tag_rows(batch))
        except Exception as exc:
            self._fail(batch, exc, quiet=quiet_conflict and _is_conflict(exc))
            return None
        return transaction

    def _finish(self, batch: list[_Append], transaction: RootTransaction) -> bool:
        """Commit the staged batch (one fsync); True if it is now durable."""
        try:
            transaction.commit()
        except Exception as exc:
            self._fail(batch, exc)
            return False
        self._tree.commit_pending()
        self._commits += 1
        return True

    def _answers_deferred(self) -> bool:
        return self._unannounced is not None

    def _answer_deferred(self) -> None:
        """Publish the durable batch: proofs may now cover it, its callers return."""
        batch, self._unannounced = self._unannounced, None
        assert batch is not None
        last = batch[-1]
        self._tree.publish(last.first_index + len(last.hashes))
        self._answer(batch)

    def _answer(self, batch: list[_Append]) -> None:
        for entry in batch:
            if entry.waiter is not None:
                entry.waiter.release()
            elif (done := entry.done) is not None:
                try:
                    if entry.error is not None:
                        done(None, _write_failed(entry.error))
                    else:
                        done(AppendReceipt(entry.first_index, entry.hashes[0]), None)
                except Exception:  # a caller's callback must not stop the writer
                    log.exception("exchange-log callback failed")

    def _fail(self, batch: list[_Append], exc: Exception, *, quiet: bool = False) -> None:
        """Forget the batch and re-read the tree; its callers are told, unless ``quiet`` (it is retried)."""
        leaves = sum(len(entry.data) for entry in batch)
        if not quiet:
            log.error("exchange-log commit of %d entries failed: %s", leaves, type(exc).__name__)
        self._drop_connection()
        self._tree.recover()
        for entry in batch:
            entry.error = exc
        if not quiet:
            self._answer(batch)

    def _writer_stopping(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception as exc:  # already broken; a new one is made on the next batch
                log.warning("closing the exchange-log connection failed: %s", type(exc).__name__)
