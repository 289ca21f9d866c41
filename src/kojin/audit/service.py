"""The exchange log service (やりとり履歴ログ): durable appends, signed heads, proofs.

The log stores opaque leaf bytes; what a leaf means is the caller's (the hub's)
business. Each leaf becomes a leaf of an RFC 9162 Merkle tree
(:mod:`kojin.audit.merkle`) kept in the audit party's own store
(:mod:`kojin.audit.store`, :mod:`kojin.audit.node_store`). The log signs tree
heads with its Ed25519 key and hands out inclusion and consistency proofs and
self-contained proof bundles (:mod:`kojin.audit.verify`).

Durability and group commit
---------------------------
:meth:`ExchangeLog.append` returns only after the transaction holding the leaf
has committed, and the stores commit durably (SQLite WAL with
``synchronous=FULL``; PostgreSQL's default ``synchronous_commit``), so an
acknowledged leaf survives a crash of the process or the machine.

Committing each leaf on its own would cap the log at one fsync per append. So
all writes go through one writer thread (group commit, グループコミット):

1. A caller hashes its leaf, adds it to the *open batch* under a mutex
   (waking the writer if the batch was empty) and blocks on a lock of its own
   that the writer will release. :meth:`append_many` adds all its leaves to
   one batch, so they commit together and get consecutive indexes.
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

One process writes one log. A second writer on the same store cannot corrupt
it (every index is a primary key, so its clashing batch fails) but wastes its
commits; run the log in one process and reach it through the hub.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from _thread import LockType, allocate_lock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, RootTransaction, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.audit.merkle import CorruptNodeStore, MerkleTree, hash_leaf
from kojin.audit.node_store import SqlNodeStore
from kojin.audit.store import leaves, log_keys, tree_heads
from kojin.audit.tree_head import SignedTreeHead, key_id, public_key_to_pem, sign_tree_head
from kojin.audit.verify import build_bundle
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound
from kojin.core.keys import insert_if_absent

__all__ = [
    "DEFAULT_LOG_ID",
    "MAX_LEAF_BYTES",
    "PASSPHRASE_ENV",
    "AppendReceipt",
    "ExchangeLog",
    "LogUnavailable",
]

log = logging.getLogger("kojin.audit")

DEFAULT_LOG_ID: Final = "kojin-exchange-log"
PASSPHRASE_ENV: Final = "KOJIN_AUDIT_PASSPHRASE"
MAX_LEAF_BYTES: Final = 1 << 20
"""Largest leaf accepted: a record of one exchange, not a document store."""

# Leaves hashed into the tree per hold of the tree lock, so a huge
# append_many never stalls proof readers for long.
_TREE_CHUNK = 256


class LogUnavailable(KojinError):
    """The log cannot take writes now (ログ書込み不可): closed, or its store failed."""

    status: ClassVar[int] = 503


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    """Where a durably committed leaf landed (記録受領): its index and leaf hash."""

    index: int
    leaf_hash: bytes


AppendDone = Callable[["AppendReceipt | None", "BaseException | None"], None]
"""Told once an entry given to :meth:`ExchangeLog.append_then` is durable (or could not be written)."""

AppendManyDone = Callable[["list[AppendReceipt] | None", "BaseException | None"], None]
"""Told once the entries given to :meth:`ExchangeLog.append_many_then` are durable (or were not written)."""


class _Batch:
    """Leaves that will share one transaction, and the callers waiting on it."""

    __slots__ = ("callbacks", "data", "error", "first_index", "hashes", "settled", "waiters")

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.hashes: list[bytes] = []
        # One held lock per waiting caller, released to wake it: much cheaper
        # than an Event (a Condition underneath), which shows at tens of
        # thousands of wake-ups a second.
        self.waiters: list[LockType] = []
        # (position in the batch, callback) of callers that do not block.
        self.callbacks: list[tuple[int, AppendDone]] = []
        self.first_index = -1
        self.error: BaseException | None = None
        self.settled = False

    def settle(self) -> None:
        """Wake every caller; ``error`` and ``first_index`` must be final."""
        self.settled = True
        for waiter in self.waiters:
            waiter.release()
        for position, done in self.callbacks:
            try:
                if self.error is not None:
                    done(None, _write_failed(self.error))
                else:
                    done(AppendReceipt(self.first_index + position, self.hashes[position]), None)
            except Exception:  # a caller's callback must not stop the writer
                log.exception("exchange-log callback failed")


def _write_failed(cause: BaseException) -> LogUnavailable:
    error = LogUnavailable(
        "audit.write_failed",
        "ログへの書込みに失敗しました。記録されたかどうかは不明です。",
        "Writing to the exchange log failed; the entries may or may not have been recorded.",
    )
    error.__cause__ = cause
    return error


def _check_leaf(data: object) -> bytes:
    if type(data) is bytes and len(data) <= MAX_LEAF_BYTES:
        return data  # the common case, without a copy
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInput(
            "audit.bad_leaf",
            "記録はbytesでなければなりません。",
            "A log entry must be bytes.",
            field="leaf_data",
        )
    raw = bytes(data)
    if len(raw) > MAX_LEAF_BYTES:
        raise InvalidInput(
            "audit.leaf_too_large",
            f"記録は{MAX_LEAF_BYTES}バイト以下でなければなりません。",
            f"A log entry must be at most {MAX_LEAF_BYTES} bytes.",
            field="leaf_data",
        )
    return raw


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ExchangeLog:
    """The append-only, signed exchange log of one kojin installation.

    ``engine`` is the audit party's engine (``Database.engine("audit")``,
    migrated). ``passphrase`` encrypts the signing key when it is created and
    decrypts it afterwards; it defaults to ``KOJIN_AUDIT_PASSPHRASE``.
    ``log_id`` names the log in its tree heads; it is fixed when the key is
    created and must match afterwards.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        log_id: str | None = None,
        passphrase: bytes | None = None,
    ) -> None:
        self._engine = engine
        if passphrase is None and os.environ.get(PASSPHRASE_ENV):
            passphrase = os.environ[PASSPHRASE_ENV].encode("utf-8")
        self._key, self._log_id = self._load_or_create_key(log_id, passphrase or None)
        self._public_key = self._key.public_key()
        self._key_id = key_id(self._public_key)

        # _lock guards the tree, the node store and _committed; it is never
        # held across database I/O, so readers wait at most for a chunk of
        # in-memory hashing.
        self._lock = threading.Lock()
        self._store = SqlNodeStore(engine)
        self._tree = MerkleTree(self._store)
        self._committed = self._tree.size
        self._check_against_last_head()

        self._sign_lock = threading.Lock()
        self._cv = threading.Condition(threading.Lock())
        self._open = _Batch()
        # The open batch may be committed: a blocking caller waits for it, or
        # an event loop's pass that appended to it has ended.
        self._go = False
        # The event loop that will say go at the end of its pass. Kept per loop: a
        # loop closed before it ran its wake-up must not hold off every other.
        self._kick_due: asyncio.AbstractEventLoop | None = None
        self._closing = False
        # The writer's own connection, kept for the life of the log: checking
        # one out of the pool per batch costs more than SQLite's commit.
        self._conn: Connection | None = None
        self._commits = 0
        self._writer = threading.Thread(target=self._run_writer, name="kojin-audit-writer", daemon=True)
        self._writer.start()

    # -- identity ----------------------------------------------------------

    @property
    def log_id(self) -> str:
        return self._log_id

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._public_key

    @property
    def key_id(self) -> str:
        """Hex SHA-256 of the raw public key, for out-of-band comparison."""
        return self._key_id

    def public_key_pem(self) -> str:
        return public_key_to_pem(self._public_key)

    def _load_or_create_key(self, log_id: str | None, passphrase: bytes | None) -> tuple[Ed25519PrivateKey, str]:
        row = self._key_row()
        if row is None:
            key = Ed25519PrivateKey.generate()
            encryption: serialization.KeySerializationEncryption = (
                serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
            )
            blob = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, encryption)
            values = {
                "id": 1,
                "log_id": log_id or DEFAULT_LOG_ID,
                "key_id": key_id(key.public_key()),
                "private_key": blob,
                "encrypted": bool(passphrase),
                "created_at": datetime.now(UTC),
            }
            insert_if_absent(self._engine, log_keys, values)  # another process's key, if it stored one first
            row = self._key_row()
            assert row is not None
        stored_log_id, blob, encrypted = row
        if log_id is not None and log_id != stored_log_id:
            raise Conflict(
                "audit.log_id_mismatch",
                f"このログのIDは{stored_log_id}です。",
                f"This log's id is {stored_log_id!r}, not {log_id!r}.",
                field="log_id",
            )
        if encrypted and not passphrase:
            raise RuntimeError(f"the exchange-log key is encrypted: set {PASSPHRASE_ENV}")
        try:
            loaded = serialization.load_der_private_key(blob, password=passphrase if encrypted else None)
        except (ValueError, TypeError):
            raise RuntimeError(
                f"the exchange-log key cannot be read: is {PASSPHRASE_ENV} the one it was created with?"
            ) from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise RuntimeError("the exchange-log key is not an Ed25519 key")
        return loaded, stored_log_id

    def _key_row(self) -> tuple[str, bytes, bool] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(log_keys.c.log_id, log_keys.c.private_key, log_keys.c.encrypted).where(log_keys.c.id == 1)
            ).first()
        return None if row is None else (str(row[0]), bytes(row[1]), bool(row[2]))

    def _check_against_last_head(self) -> None:
        """Refuse to serve a store that contradicts a tree head it already signed.

        A restored old backup, or rows removed behind the log's back, would
        otherwise be silently extended into a fork of the published history.
        """
        last = self.latest_tree_head()
        if last is None:
            return
        if last.tree_size > self._committed or self._tree.root(last.tree_size) != last.root_hash:
            raise CorruptNodeStore(
                "audit.store_behind_tree_head",
                f"ログの内容が署名済みツリーヘッド(サイズ{last.tree_size})と一致しません。",
                f"The log store does not match its signed tree head of size {last.tree_size}.",
            )

    # -- appending ---------------------------------------------------------

    def append(self, leaf_data: bytes) -> AppendReceipt:
        """Log one entry; return once it is durably committed."""
        data = _check_leaf(leaf_data)
        leaf_hash = hash_leaf(data)
        batch, position = self._submit([data], [leaf_hash])
        return AppendReceipt(batch.first_index + position, leaf_hash)

    def append_then(self, leaf_data: bytes, done: AppendDone) -> None:
        """Log one entry without blocking: ``done(receipt, None)`` runs once it is durable.

        ``done(None, error)`` if it could not be written. It runs on the
        log's writer thread, so it must only hand the result on (to an event
        loop, say), never block.
        """
        data = _check_leaf(leaf_data)
        self._join_then([data], [hash_leaf(data)], done)

    def append_many_then(self, leaf_data: Sequence[bytes], done: AppendManyDone) -> None:
        """:meth:`append_many` without blocking: ``done(receipts, None)`` once all are durable.

        The entries go into one commit at consecutive indexes (``done(None,
        error)`` if it failed); ``done`` runs as :meth:`append_then`'s does.
        """
        data = [_check_leaf(d) for d in leaf_data]
        if not data:
            done([], None)
            return
        hashes = [hash_leaf(d) for d in data]

        def first(receipt: AppendReceipt | None, error: BaseException | None) -> None:
            if receipt is None:
                done(None, error)
            else:
                done([AppendReceipt(receipt.index + i, h) for i, h in enumerate(hashes)], None)

        self._join_then(data, hashes, first)

    def _join_then(self, data: list[bytes], hashes: list[bytes], done: AppendDone) -> None:
        # On an event loop the writer is woken at the end of the loop's pass,
        # so that every leaf the pass appends shares one commit.
        loop = asyncio._get_running_loop()
        with self._cv:
            if self._closing:
                raise LogUnavailable("audit.log_closed", "ログは閉じられています。", "The exchange log is closed.")
            batch = self._open
            position = len(batch.data)
            batch.data += data
            batch.hashes += hashes
            batch.callbacks.append((position, done))
            if loop is None:
                if not self._go:
                    self._go = True
                    self._cv.notify()
                return
            schedule = self._kick_due is not loop
            self._kick_due = loop
        if schedule:
            loop.call_soon(self._kick, loop)

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._cv:
            if self._kick_due is loop:
                self._kick_due = None
            # Only with leaves open: a go left standing over an empty batch
            # would let the next leaves in without anyone waking the writer.
            if self._open.data and not self._go:
                self._go = True
                self._cv.notify()

    def append_many(self, leaf_data: Sequence[bytes]) -> list[AppendReceipt]:
        """Log several entries in one transaction, at consecutive indexes."""
        data = [_check_leaf(d) for d in leaf_data]
        if not data:
            return []
        hashes = [hash_leaf(d) for d in data]
        batch, position = self._submit(data, hashes)
        first = batch.first_index + position
        return [AppendReceipt(first + i, h) for i, h in enumerate(hashes)]

    def _submit(self, data: list[bytes], hashes: list[bytes]) -> tuple[_Batch, int]:
        """Join the open batch and wait until it is durable; return it and our offset."""
        waiter = allocate_lock()
        waiter.acquire()
        with self._cv:
            if self._closing:
                raise LogUnavailable("audit.log_closed", "ログは閉じられています。", "The exchange log is closed.")
            batch = self._open
            position = len(batch.data)
            batch.data += data
            batch.hashes += hashes
            batch.waiters.append(waiter)
            if not self._go:
                self._go = True
                self._cv.notify()
        waiter.acquire()
        if batch.error is not None:
            raise _write_failed(batch.error)
        return batch, position

    def close(self) -> None:
        """Commit what callers are already waiting for, then stop the writer."""
        with self._cv:
            self._closing = True
            self._cv.notify()
        if self._writer is not threading.current_thread():
            self._writer.join()

    def __enter__(self) -> ExchangeLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run_writer(self) -> None:
        # A committed batch whose callers have not been woken yet. Waking them
        # is deferred until the next batch's rows are written, so that the
        # woken callers' Python work overlaps the next fsync (which releases
        # the GIL) instead of competing with the writer for the GIL while it
        # builds the next transaction; it costs them the few tens of
        # microseconds that building takes.
        committed: _Batch | None = None
        try:
            while True:
                with self._cv:
                    while committed is None and not (self._open.data and self._go) and not self._closing:
                        self._cv.wait()
                    batch = self._open
                    if batch.data and (self._go or self._closing):
                        self._open = _Batch()
                        self._go = False
                    else:
                        batch = _Batch()  # nothing to commit yet: announce what is durable
                if not batch.data:
                    if committed is None:
                        return  # closing, and everything is announced
                    self._announce(committed)
                    committed = None
                    continue
                transaction = self._stage(batch)
                if committed is not None:
                    self._announce(committed)
                    committed = None
                if transaction is not None and self._finish(batch, transaction):
                    committed = batch
        finally:
            if committed is not None:
                self._announce(committed)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            # Should the loop ever die, nobody may wait forever on a batch
            # that no thread will commit.
            with self._cv:
                self._closing = True
                orphan = self._open
            if orphan.data and not orphan.settled:
                orphan.error = RuntimeError("exchange-log writer stopped")
                orphan.settle()

    def _stage(self, batch: _Batch) -> RootTransaction | None:
        """Add the batch to the tree and insert its rows in an open transaction."""
        try:
            hashes = batch.hashes
            with self._lock:
                batch.first_index = self._tree.size
            for start in range(0, len(hashes), _TREE_CHUNK):
                with self._lock:
                    for leaf_hash in hashes[start : start + _TREE_CHUNK]:
                        self._tree.append(leaf_hash)
            if self._conn is None:
                self._conn = self._engine.connect()
            transaction = self._conn.begin()
            self._store.write_pending(self._conn, batch.data, datetime.now(UTC))
        except Exception as exc:
            self._fail(batch, exc)
            return None
        return transaction

    def _finish(self, batch: _Batch, transaction: RootTransaction) -> bool:
        """Commit the staged batch (one fsync); True if it is now durable."""
        try:
            transaction.commit()
        except Exception as exc:
            self._fail(batch, exc)
            return False
        with self._lock:
            self._store.commit_pending()
        self._commits += 1
        return True

    def _announce(self, batch: _Batch) -> None:
        """Publish a durable batch: proofs may now cover it, its callers return."""
        with self._lock:
            # max: a recovery in between may already have published more.
            self._committed = max(self._committed, batch.first_index + len(batch.data))
        batch.settle()

    def _fail(self, batch: _Batch, exc: Exception) -> None:
        log.error("exchange-log commit of %d entries failed: %s", len(batch.data), type(exc).__name__)
        self._drop_connection()
        self._recover()
        batch.error = exc
        batch.settle()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception as exc:  # already broken; a new one is made on the next batch
                log.warning("closing the exchange-log connection failed: %s", type(exc).__name__)

    def _recover(self) -> None:
        with self._lock:
            self._store.rollback_pending()
            try:
                self._store.resync()
            except Exception as exc:  # the store is still down; the next commit retries
                log.error("exchange-log resync failed: %s", type(exc).__name__)
            # A fresh tree re-reads the size and recomputes parents a partial
            # resync may lack.
            self._tree = MerkleTree(self._store)
            self._committed = self._tree.size

    # -- reading -----------------------------------------------------------

    def size(self) -> int:
        """Number of durably committed leaves."""
        return self._committed

    @property
    def commit_count(self) -> int:
        """Transactions committed by this process: leaves / commits is the mean group size."""
        return self._commits

    def _resolve_size(self, tree_size: int | None, field: str) -> int:
        committed = self._committed
        if tree_size is None:
            return committed
        if not _is_count(tree_size) or not 0 <= tree_size <= committed:
            raise InvalidInput(
                "merkle.size_out_of_range",
                f"木のサイズは0以上{committed}以下でなければなりません。",
                f"Tree size must be between 0 and the current size {committed}.",
                field=field,
            )
        return tree_size

    def root(self, tree_size: int | None = None) -> bytes:
        """Merkle root of the first ``tree_size`` leaves (default: all committed)."""
        with self._lock:
            return self._tree.root(self._resolve_size(tree_size, "tree_size"))

    def leaf_hash(self, index: int) -> bytes:
        with self._lock:
            self._check_leaf_index(index)
            return self._tree.leaf_hash(index)

    def leaf_data(self, index: int) -> bytes:
        """The bytes logged at ``index``."""
        self._check_leaf_index(index)
        with self._engine.connect() as conn:
            data = conn.execute(select(leaves.c.leaf_data).where(leaves.c.leaf_index == index)).scalar()
        if data is None:  # only if rows vanished behind the log's back
            raise self._no_leaf(index)
        return bytes(data)

    def _check_leaf_index(self, index: int) -> None:
        if not _is_count(index) or index < 0:
            raise InvalidInput(
                "merkle.index_out_of_range",
                "葉の番号は0以上の整数でなければなりません。",
                "A leaf index must be a non-negative integer.",
                field="index",
            )
        if index >= self._committed:
            raise self._no_leaf(index)

    def _no_leaf(self, index: int) -> NotFound:
        return NotFound(
            "audit.no_such_leaf",
            f"葉番号{index}の記録はありません(ログのサイズは{self._committed})。",
            f"There is no entry {index}; the log has {self._committed} entries.",
            field="index",
        )

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """RFC 9162 audit path of leaf ``index`` in the tree of ``tree_size`` leaves."""
        with self._lock:
            return self._tree.inclusion_proof(index, self._resolve_size(tree_size, "tree_size"))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 proof that the tree of ``size2`` leaves extends that of ``size1``."""
        with self._lock:
            return self._tree.consistency_proof(size1, self._resolve_size(size2, "size2"))

    # -- tree heads --------------------------------------------------------

    def sign_tree_head(self) -> SignedTreeHead:
        """Sign (and store) a head for the current committed size.

        Signing again without new leaves returns the stored head for that size,
        so each size has exactly one head. Timestamps never go backwards, even
        if the clock does.
        """
        with self._sign_lock:
            with self._lock:
                size = self._committed
                root = self._tree.root(size)
            last = self.latest_tree_head()
            if last is not None and last.tree_size == size:
                return last
            now = time.time_ns() // 1_000_000
            stamp = max(now, last.timestamp_ms) if last is not None else now
            sth = sign_tree_head(self._key, size, root, self._log_id, stamp)
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        insert(tree_heads).values(
                            tree_size=sth.tree_size,
                            root_hash=sth.root_hash,
                            timestamp_ms=sth.timestamp_ms,
                            log_id=sth.log_id,
                            signature=sth.signature,
                        )
                    )
            except IntegrityError:
                # Signed by another process meanwhile; serve the stored one.
                return self.tree_head(size)
            return sth

    def latest_tree_head(self) -> SignedTreeHead | None:
        """The head of the largest size signed so far, if any."""
        with self._engine.connect() as conn:
            row = conn.execute(select(tree_heads).order_by(tree_heads.c.tree_size.desc()).limit(1)).first()
        return None if row is None else self._sth_from_row(row._mapping)

    def tree_head(self, tree_size: int) -> SignedTreeHead:
        """The stored head of exactly ``tree_size``; ``NotFound`` if none was signed."""
        return self._stored_head(tree_size, "tree_size")

    def _stored_head(self, tree_size: int, field: str) -> SignedTreeHead:
        # BIGINT bounds the column; anything beyond cannot have been signed.
        if not _is_count(tree_size) or not 0 <= tree_size < 1 << 63:
            raise InvalidInput(
                "merkle.size_out_of_range",
                "木のサイズは0以上の整数でなければなりません。",
                "A tree size must be a non-negative integer.",
                field=field,
            )
        with self._engine.connect() as conn:
            row = conn.execute(select(tree_heads).where(tree_heads.c.tree_size == tree_size)).first()
        if row is None:
            raise NotFound(
                "audit.no_such_tree_head",
                f"サイズ{tree_size}の署名付きツリーヘッドはありません。",
                f"No tree head was signed at size {tree_size}.",
                field=field,
            )
        return self._sth_from_row(row._mapping)

    @staticmethod
    def _sth_from_row(row: RowMapping) -> SignedTreeHead:
        return SignedTreeHead(
            tree_size=int(row["tree_size"]),
            root_hash=bytes(row["root_hash"]),
            timestamp_ms=int(row["timestamp_ms"]),
            log_id=str(row["log_id"]),
            signature=bytes(row["signature"]),
        )

    # -- bundles -----------------------------------------------------------

    def proof_bundle(
        self, index: int, tree_size: int | None = None, *, consistency_from: int | None = None
    ) -> dict[str, object]:
        """A self-contained proof that leaf ``index`` is in the log (証跡).

        The bundle is checked against the stored head of ``tree_size``, or by
        default the latest head — a new one is signed if the latest does not
        cover the leaf yet. With ``consistency_from`` it also proves that the
        stored head of that older size lies on the same history.
        :func:`kojin.audit.verify.verify_bundle` accepts the result.
        """
        self._check_leaf_index(index)
        if tree_size is None:
            sth = self.latest_tree_head()
            if sth is None or sth.tree_size <= index:
                sth = self.sign_tree_head()
        else:
            sth = self.tree_head(tree_size)
            if index >= sth.tree_size:
                raise InvalidInput(
                    "audit.leaf_not_in_tree_head",
                    f"葉番号{index}はサイズ{sth.tree_size}の木に含まれません。",
                    f"Entry {index} is not in the tree of size {sth.tree_size}.",
                    field="index",
                )
        first: SignedTreeHead | None = None
        consistency: list[bytes] | None = None
        if consistency_from is not None:
            first = self._stored_head(consistency_from, "consistency_from")
            if first.tree_size > sth.tree_size:
                raise InvalidInput(
                    "merkle.size_order",
                    "古いツリーヘッドのサイズが新しいものを超えています。",
                    f"consistency_from ({first.tree_size}) must not exceed tree_size ({sth.tree_size}).",
                    field="consistency_from",
                )
            consistency = self.consistency_proof(first.tree_size, sth.tree_size)
        return build_bundle(
            public_key=self._public_key,
            tree_head=sth,
            leaf_index=index,
            inclusion_proof=self.inclusion_proof(index, sth.tree_size),
            leaf_data=self.leaf_data(index),
            leaf_hash=self.leaf_hash(index),
            first_tree_head=first,
            consistency_proof=consistency,
        )
