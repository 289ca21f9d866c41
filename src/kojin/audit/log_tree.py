"""The exchange log's Merkle tree as readers see it: committed leaves only.

The writer adds a batch's leaves to the in-memory tree before its commit, but
roots, proofs and tree heads must only ever cover leaves that are durable. So
readers are bounded by the *committed size*, which the writer publishes after
each commit, and a failed commit cuts the tree back to what the store holds.

One lock guards the tree, its node store and the committed size. It is never
held across database I/O, so a reader waits at most for a chunk of in-memory
hashing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine

from kojin.audit import reasons
from kojin.audit.merkle import MerkleTree
from kojin.audit.node_store import SqlNodeStore
from kojin.audit.tree_head import SignedTreeHead
from kojin.core.errors import NotFound

__all__ = ["CommittedTree", "is_count"]

log = logging.getLogger("kojin.audit")

# Leaves hashed into the tree per hold of the lock, so a huge append_many
# never stalls proof readers for long.
_TREE_CHUNK = 256


def is_count(value: object) -> bool:
    """An int that is not a bool: a size or an index as given by a caller."""
    return isinstance(value, int) and not isinstance(value, bool)


class CommittedTree:
    """The log's Merkle tree over its store, read up to the committed size."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._store = SqlNodeStore(engine)
        self._tree = MerkleTree(self._store)
        self._committed = self._tree.size

    @property
    def size(self) -> int:
        """Number of durably committed leaves."""
        return self._committed

    # -- reading -----------------------------------------------------------

    def root(self, tree_size: int | None = None) -> bytes:
        """Merkle root of the first ``tree_size`` leaves (default: all committed)."""
        with self._lock:
            return self._tree.root(self._resolve_size(tree_size, "tree_size"))

    def current(self) -> tuple[int, bytes]:
        """The committed size and its root, read together."""
        with self._lock:
            size = self._committed
            return size, self._tree.root(size)

    def leaf_hash(self, index: int) -> bytes:
        with self._lock:
            self.check_leaf_index(index)
            return self._tree.leaf_hash(index)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """RFC 9162 audit path of leaf ``index`` in the tree of ``tree_size`` leaves."""
        with self._lock:
            return self._tree.inclusion_proof(index, self._resolve_size(tree_size, "tree_size"))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 proof that the tree of ``size2`` leaves extends that of ``size1``."""
        with self._lock:
            return self._tree.consistency_proof(size1, self._resolve_size(size2, "size2"))

    def check_leaf_index(self, index: int) -> None:
        """Refuse an index that is not a committed leaf's."""
        if not is_count(index) or index < 0:
            raise reasons.MERKLE_INDEX_OUT_OF_RANGE.error(tree_size=self._committed)
        if index >= self._committed:
            raise self.no_leaf(index)

    def no_leaf(self, index: int) -> NotFound:
        return reasons.NO_SUCH_LEAF.error(index=index, committed=self._committed)

    def _resolve_size(self, tree_size: int | None, field: str) -> int:
        committed = self._committed
        if tree_size is None:
            return committed
        if not is_count(tree_size) or not 0 <= tree_size <= committed:
            raise reasons.MERKLE_SIZE_OUT_OF_RANGE.error(limit=committed, field=field)
        return tree_size

    def check_against(self, last: SignedTreeHead | None) -> None:
        """Refuse to serve a store that contradicts a tree head the log already signed.

        A restored old backup, or rows removed behind the log's back, would
        otherwise be silently extended into a fork of the published history.
        """
        if last is None:
            return
        if last.tree_size > self._committed or self._tree.root(last.tree_size) != last.root_hash:
            raise reasons.STORE_BEHIND_TREE_HEAD.error(tree_size=last.tree_size)

    # -- the writer's side -------------------------------------------------

    @property
    def next_index(self) -> int:
        """The index the next added leaf gets. Only the writer adds, so it may read this without the lock."""
        return self._tree.size

    def extend(self, hashes: Sequence[bytes]) -> None:
        """Add leaves beyond the committed size, at :attr:`next_index` onwards."""
        for start in range(0, len(hashes), _TREE_CHUNK):
            with self._lock:
                for leaf_hash in hashes[start : start + _TREE_CHUNK]:
                    self._tree.append(leaf_hash)

    def write_pending(
        self,
        conn: Connection,
        leaf_data: Sequence[bytes],
        appended_at: datetime,
        tag_rows: Sequence[tuple[bytes, int, str, str]] = (),
    ) -> None:
        """Insert the added leaves', nodes' and index rows in ``conn``'s open transaction."""
        self._store.write_pending(conn, leaf_data, appended_at, tag_rows)

    def commit_pending(self) -> None:
        """The transaction holding the added rows has committed."""
        with self._lock:
            self._store.commit_pending()

    def publish(self, size: int) -> None:
        """Let readers see the first ``size`` leaves, which are durable."""
        with self._lock:
            # max: a recovery in between may already have published more.
            self._committed = max(self._committed, size)

    def recover(self) -> None:
        """After a failed commit: forget what was added and re-read the store."""
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
