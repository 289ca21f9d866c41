"""The exchange log's signed tree heads (署名付きツリーヘッド) in its store.

Each tree size gets exactly one head, signed by the log's key when first asked
for and stored in ``tree_heads``; signing again without new leaves returns the
stored one, and timestamps never go backwards, even if the clock does. What a
head is and how it is checked is :mod:`kojin.audit.tree_head`'s; this module
only signs, stores and reads them back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.audit import reasons
from kojin.audit.log_tree import is_count
from kojin.audit.store import tree_heads
from kojin.audit.tree_head import SignedTreeHead, sign_tree_head

__all__ = ["SignedHeads"]


class SignedHeads:
    """The heads one log signed, by size."""

    def __init__(self, engine: Engine, key: Ed25519PrivateKey, log_id: str) -> None:
        self._engine = engine
        self._key = key
        self._log_id = log_id
        self._sign_lock = threading.Lock()

    def sign(self, current: Callable[[], tuple[int, bytes]]) -> SignedTreeHead:
        """Sign (and store) a head for ``current()``'s size and root, unless that size has one.

        ``current`` is read under the signing lock, so heads signed in this
        process are ordered by size as by time.
        """
        with self._sign_lock:
            size, root = current()
            last = self.latest()
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
                return self.at(size)
            return sth

    def latest(self) -> SignedTreeHead | None:
        """The head of the largest size signed so far, if any."""
        with self._engine.connect() as conn:
            row = conn.execute(select(tree_heads).order_by(tree_heads.c.tree_size.desc()).limit(1)).first()
        return None if row is None else _from_row(row._mapping)

    def at(self, tree_size: int, field: str = "tree_size") -> SignedTreeHead:
        """The stored head of exactly ``tree_size``; ``NotFound`` if none was signed."""
        # BIGINT bounds the column; anything beyond cannot have been signed.
        if not is_count(tree_size) or not 0 <= tree_size < 1 << 63:
            raise reasons.MERKLE_SIZE_OUT_OF_RANGE.error(limit=(1 << 63) - 1, field=field)
        with self._engine.connect() as conn:
            row = conn.execute(select(tree_heads).where(tree_heads.c.tree_size == tree_size)).first()
        if row is None:
            raise reasons.NO_SUCH_TREE_HEAD.error(tree_size=tree_size, field=field)
        return _from_row(row._mapping)


def _from_row(row: RowMapping) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=int(row["tree_size"]),
        root_hash=bytes(row["root_hash"]),
        timestamp_ms=int(row["timestamp_ms"]),
        log_id=str(row["log_id"]),
        signature=bytes(row["signature"]),
    )
