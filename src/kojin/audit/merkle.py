"""RFC 9162 Merkle tree behind the exchange log (やりとり履歴の改ざん検知ログ).

Hashing follows RFC 9162 §2.1.1 exactly, with SHA-256::

    leaf hash   = SHA-256(0x00 || data)
    node hash   = SHA-256(0x01 || left || right)
    empty root  = SHA-256("")

so that the log can be checked with any Certificate-Transparency style tool.

Storage layout
--------------
A tree of ``n`` leaves is kept as the hashes of its *complete* subtrees only:
level ``k``, index ``i`` holds the root of the perfect subtree over leaves
``[i·2^k, (i+1)·2^k)``. Such a node never changes once its last leaf has
arrived, so storage is append-only, which suits both a bytearray and a
database table. Every tree size ``m ≤ n`` — not only the latest — decomposes
into at most ``log2(m)`` stored nodes (one per set bit of ``m``), so roots and
proofs for any historical size read O(log n) nodes and hash only the ragged
right edge. The whole tree takes about ``2n`` hashes (≈ 64 MB at 1 M leaves in
:class:`MemoryNodeStore`).

Storage sits behind the small :class:`NodeStore` protocol so that a
database-backed store can replace :class:`MemoryNodeStore` without touching
:class:`MerkleTree`.

The pure functions :func:`verify_inclusion` and :func:`verify_consistency`
implement the client-side algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 and need
no tree at all; :func:`root_from_leaf_hashes` is the recursive MTH definition of
§2.1.1, kept as a slow but obviously-correct reference.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Protocol

from kojin.audit import reasons
from kojin.audit.reasons import CorruptNodeStore

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CorruptNodeStore",
    "MemoryNodeStore",
    "MerkleTree",
    "NodeStore",
    "hash_children",
    "hash_leaf",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) — the root of the tree with no leaves."""

# RFC 9162 sizes and indices are uint64; anything larger cannot come from a
# real log, and rejecting it early bounds the work a hostile proof can cause.
_MAX_TREE_SIZE = 1 << 64
_MAX_PROOF_LENGTH = 2 * 64

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    """Leaf hash of one log entry: SHA-256(0x00 || data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash of a list of leaf hashes, by the recursive definition.

    This is RFC 9162 §2.1.1 transcribed literally (split at the largest power
    of two smaller than ``n``). It is O(n) and recursive, meant as a reference
    for tests and tiny trees, not for the log itself.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split_point(n)
    return hash_children(root_from_leaf_hashes(leaf_hashes[:k]), root_from_leaf_hashes(leaf_hashes[k:]))


def _split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: object) -> bool:
    # bool is an int subclass; a True tree size is a bug, not a size of one.
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# Storage


class NodeStore(Protocol):
    """Append-only storage of complete-subtree hashes, addressed by (level, index).

    Level 0 holds the leaf hashes; level ``k`` index ``i`` holds the root of
    the perfect subtree over leaves ``[i·2^k, (i+1)·2^k)``. Every hash is
    exactly :data:`HASH_SIZE` bytes.

    Contract for implementers:

    * ``append_node(level, h)`` stores ``h`` at index ``node_count(level)``.
      Nodes are never rewritten or deleted. :class:`MerkleTree` only appends to
      a level ``k > 0`` after that level's children exist, and never skips a
      level.
    * ``node_count(level)`` is the number of nodes stored at ``level``; 0 for a
      level never written. ``node_count(0)`` is therefore the tree size.
    * ``get_node(level, index)`` returns a stored hash as ``bytes``; it is only
      called for ``0 <= index < node_count(level)``.
    * A store is written by one :class:`MerkleTree` at a time (the log is
      single-writer); it need not be thread-safe for writes.
    * A store may lose a tail of parent nodes in a crash (for example, leaf
      written and committed, parent not yet): :class:`MerkleTree` recomputes
      missing parents when it opens the store. It must never lose a node while
      keeping a later node of the same level.
    """

    def node_count(self, level: int) -> int:
        """Number of nodes stored at ``level`` (0 if none)."""
        ...

    def get_node(self, level: int, index: int) -> bytes:
        """Hash stored at ``(level, index)``."""
        ...

    def append_node(self, level: int, node_hash: bytes) -> None:
        """Store ``node_hash`` as the next node of ``level``."""
        ...


class MemoryNodeStore:
    """In-memory :class:`NodeStore`: one bytearray per level.

    A bytearray of packed 32-byte hashes costs 32 bytes per node, against
    about 73 for a list of ``bytes`` objects, which matters at millions of
    leaves.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def node_count(self, level: int) -> int:
        if 0 <= level < len(self._levels):
            return len(self._levels[level]) // HASH_SIZE
        return 0

    def get_node(self, level: int, index: int) -> bytes:
        if index < 0 or not 0 <= level < len(self._levels):
            raise IndexError((level, index))
        offset = index * HASH_SIZE
        node = bytes(self._levels[level][offset : offset + HASH_SIZE])
        if len(node) != HASH_SIZE:
            raise IndexError((level, index))
        return node

    def append_node(self, level: int, node_hash: bytes) -> None:
        if len(node_hash) != HASH_SIZE:
            raise ValueError("node hash must be 32 bytes")
        levels = self._levels
        if level == len(levels):
            levels.append(bytearray())
        elif not 0 <= level < len(levels):
            raise IndexError(level)
        levels[level] += node_hash

    @property
    def nbytes(self) -> int:
        """Bytes of hash data held (excluding container overhead)."""
        return sum(len(level) for level in self._levels)


# ---------------------------------------------------------------------------
# The tree


class MerkleTree:
    """Append-only RFC 9162 Merkle tree over a :class:`NodeStore`.

    Appends are amortised O(1) (one leaf write plus on average one parent
    hash). ``root``, ``inclusion_proof`` and ``consistency_proof`` accept any
    tree size up to the current one, so the log can answer for a tree head it
    signed long ago.

    Not thread-safe: the log serialises appends, and proofs must not race an
    append on the same tree object.
    """

    __slots__ = ("_size", "_store")

    def __init__(self, store: NodeStore | None = None) -> None:
        self._store: NodeStore = store if store is not None else MemoryNodeStore()
        self._repair()
        self._size = self._store.node_count(0)

    @property
    def store(self) -> NodeStore:
        return self._store

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    # -- writing ---------------------------------------------------------

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf hash (already ``hash_leaf``-ed) and return its index."""
        if not _is_hash(leaf_hash):
            raise reasons.MERKLE_BAD_LEAF_HASH.error()
        store = self._store
        index = self._size
        store.append_node(0, leaf_hash)
        # Each trailing 1-bit of the index is a subtree this leaf just
        # completed; its hash is final, so store it now and never again.
        node = leaf_hash
        level = 0
        i = index
        while i & 1:
            node = _sha256(_NODE_PREFIX + store.get_node(level, i - 1) + node).digest()
            level += 1
            i >>= 1
            store.append_node(level, node)
        self._size = index + 1
        return index

    def append_data(self, data: bytes) -> int:
        """Hash ``data`` as a leaf (0x00 prefix), append it, return its index."""
        return self.append(_sha256(_LEAF_PREFIX + data).digest())

    def extend(self, leaf_hashes: Iterable[bytes]) -> int:
        """Append several leaf hashes in order; return the new tree size."""
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)
        return self._size

    # -- reading ---------------------------------------------------------

    def leaf_hash(self, index: int) -> bytes:
        """The stored hash of leaf ``index``."""
        self._check_index(index, self._size)
        return self._store.get_node(0, index)

    def root(self, tree_size: int | None = None) -> bytes:
        """MTH of the first ``tree_size`` leaves (default: all of them)."""
        m = self._check_size(tree_size, "tree_size")
        if m == 0:
            return EMPTY_ROOT
        return self._range_hash(0, m)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """Audit path for leaf ``index`` in the tree of ``tree_size`` leaves.

        RFC 9162 §2.1.3.1 ``PATH(index, D[tree_size])``: sibling hashes from
        the leaf upwards.
        """
        n = self._check_size(tree_size, "tree_size")
        self._check_index(index, n)
        path: list[bytes] = []
        start, end = 0, n
        # Walk down from the root; each step's sibling is the half the leaf
        # is not in. At most one sibling is ragged (the first right sibling
        # ending at n), so this reads O(log n) nodes and hashes O(log n).
        while end - start > 1:
            k = _split_point(end - start)
            if index < start + k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from tree size ``size1`` to ``size2``.

        RFC 9162 §2.1.4.1 ``PROOF(size1, D[size2])``. The RFC defines it for
        ``0 < size1 < size2``; for ``size1 == 0`` or ``size1 == size2`` the
        proof is empty (see :func:`verify_consistency`).
        """
        n = self._check_size(size2, "size2")
        if not _is_count(size1) or size1 < 0:
            raise reasons.MERKLE_SIZE_OUT_OF_RANGE.error(limit=n)
        if size1 > n:
            raise reasons.MERKLE_SIZE_ORDER.error(first=size1, second=n)
        if size1 == 0 or size1 == n:
            return []
        path: list[bytes] = []
        start, end = 0, n
        # SUBPROOF(size1, D[start:end], start == 0) unrolled: once the walk
        # has gone right, b is false and the old subtree's own hash must be
        # sent too, because the verifier cannot rebuild it from first_hash.
        while end != size1:
            k = _split_point(end - start)
            if size1 <= start + k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
        if start != 0:
            path.append(self._range_hash(start, end))
        path.reverse()
        return path

    # -- internals -------------------------------------------------------

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC recursion can produce.

        Such a range starts on a multiple of the power of two at or above its
        width, so it splits into the stored complete subtrees given by the set
        bits of its width, largest first; folding them from the right gives
        the RFC's left-heavy shape.
        """
        width = end - start
        get = self._store.get_node
        level = width.bit_length() - 1
        if width == 1 << level:
            return get(level, start >> level)
        peaks: list[bytes] = []
        pos = start
        while level >= 0:
            if width >> level & 1:
                peaks.append(get(level, pos >> level))
                pos += 1 << level
            level -= 1
        node = peaks.pop()
        while peaks:
            node = _sha256(_NODE_PREFIX + peaks.pop() + node).digest()
        return node

    def _check_size(self, tree_size: int | None, field: str) -> int:
        if tree_size is None:
            return self._size
        if not _is_count(tree_size) or not 0 <= tree_size <= self._size:
            raise reasons.MERKLE_SIZE_OUT_OF_RANGE.error(limit=self._size, field=field)
        return tree_size

    @staticmethod
    def _check_index(index: int, tree_size: int) -> None:
        if not _is_count(index) or not 0 <= index < tree_size:
            raise reasons.MERKLE_INDEX_OUT_OF_RANGE.error(tree_size=tree_size)

    def _repair(self) -> None:
        """Recompute parents a crashed writer left out; refuse real corruption."""
        store = self._store
        level = 0
        while True:
            count = store.node_count(level)
            have = store.node_count(level + 1)
            expected = count // 2
            if have > expected:
                raise reasons.MERKLE_CORRUPT_STORE.error(
                    level=level + 1,
                    detail_ja="子より多いノードがあります",
                    detail_en="it has more nodes than its children allow",
                )
            for j in range(have, expected):
                store.append_node(
                    level + 1,
                    hash_children(store.get_node(level, 2 * j), store.get_node(level, 2 * j + 1)),
                )
            if expected == 0:
                return
            level += 1


# ---------------------------------------------------------------------------
# Client-side verification (no tree needed)


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Check an audit path, RFC 9162 §2.1.3.2.

    Returns ``False`` (never raises) for a wrong proof or for arguments of the
    wrong type or length, since the inputs usually come from outside.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_count(index) and _is_count(tree_size)):
        return False
    if not 0 <= index < tree_size < _MAX_TREE_SIZE:
        return False
    if not isinstance(proof, Sequence) or len(proof) > _MAX_PROOF_LENGTH:
        return False
    fn = index
    sn = tree_size - 1
    r = leaf_hash
    for p in proof:
        if not _is_hash(p) or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """Check a consistency proof, RFC 9162 §2.1.4.2.

    The RFC algorithm covers ``0 < size1 < size2``. The edge cases are decided
    here the way RFC 6962-bis clients do: ``size1 == size2`` holds iff the
    proof is empty and the roots are equal; ``size1 == 0`` holds iff the proof
    is empty and ``root1`` is the empty-tree hash (every tree extends the
    empty one). ``size1 > size2`` never holds. Never raises.
    """
    if not (_is_hash(root1) and _is_hash(root2) and _is_count(size1) and _is_count(size2)):
        return False
    if not 0 <= size1 <= size2 < _MAX_TREE_SIZE:
        return False
    if not isinstance(proof, Sequence) or len(proof) > _MAX_PROOF_LENGTH:
        return False
    if not all(_is_hash(c) for c in proof):
        return False
    if size1 == size2:
        return len(proof) == 0 and hmac.compare_digest(root1, root2)
    if size1 == 0:
        return len(proof) == 0 and hmac.compare_digest(root1, EMPTY_ROOT)
    # 1. An empty path cannot prove anything between distinct non-empty trees.
    if len(proof) == 0:
        return False
    path = list(proof)
    # 2. A power-of-two old tree is a complete left subtree of the new one,
    #    so the log leaves its hash out and the verifier supplies it.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3-4.
    fn = size1 - 1
    sn = size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    # 7.
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)
