"""The exchange log service (やりとり履歴ログ): durable appends, signed heads, proofs.

The log stores opaque leaf bytes; what a leaf means is the caller's (the hub's)
business. Each leaf becomes a leaf of an RFC 9162 Merkle tree
(:mod:`kojin.audit.merkle`) kept in the audit party's own store
(:mod:`kojin.audit.store`, :mod:`kojin.audit.node_store`). The log signs tree
heads with its Ed25519 key and hands out inclusion and consistency proofs and
self-contained proof bundles (:mod:`kojin.audit.verify`).

:class:`ExchangeLog` is the one object callers hold; its parts are modules of
their own: the signing key (:mod:`kojin.audit.keys`), durable appends with
group commit (:mod:`kojin.audit.writer`, which says what an acknowledged
append guarantees), the tree as readers see it, committed leaves only
(:mod:`kojin.audit.log_tree`), and the stored tree heads
(:mod:`kojin.audit.signed_heads`).
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from kojin.audit import reasons
from kojin.audit.keys import DEFAULT_LOG_ID, PASSPHRASE_ENV, load_or_create_key
from kojin.audit.log_tree import CommittedTree, is_count
from kojin.audit.signed_heads import SignedHeads
from kojin.audit.store import leaf_tags, leaves
from kojin.audit.tree_head import SignedTreeHead, key_id, public_key_to_pem
from kojin.audit.verify import build_bundle
from kojin.audit.writer import (
    MAX_LEAF_BYTES,
    AppendDone,
    AppendManyDone,
    AppendReceipt,
    LeafTag,
    LogUnavailable,
    LogWriter,
)

__all__ = [
    "DEFAULT_LOG_ID",
    "MAX_LEAF_BYTES",
    "PASSPHRASE_ENV",
    "AppendReceipt",
    "ExchangeLog",
    "LeafTag",
    "LogUnavailable",
]


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
        key, self._log_id = load_or_create_key(engine, log_id, passphrase)
        self._public_key = key.public_key()
        self._key_id = key_id(self._public_key)
        self._heads = SignedHeads(engine, key, self._log_id)
        self._tree = CommittedTree(engine)
        self._tree.check_against(self._heads.latest())
        self._writer = LogWriter(engine, self._tree)

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

    # -- appending ---------------------------------------------------------

    def append(self, leaf_data: bytes, tag: LeafTag | None = None) -> AppendReceipt:
        """Log one entry; return once it is durably committed.

        With ``tag`` the leaf enters the person index (``leaf_tags``) in the same commit.
        """
        return self._writer.append(leaf_data, tag)

    def append_many(
        self, leaf_data: Sequence[bytes], tags: Sequence[LeafTag | None] | None = None
    ) -> list[AppendReceipt]:
        """Log several entries in one transaction, at consecutive indexes (``tags`` one per entry)."""
        return self._writer.append_many(leaf_data, tags)

    def append_then(self, leaf_data: bytes, done: AppendDone, tag: LeafTag | None = None) -> None:
        """Log one entry without blocking: ``done(receipt, None)`` runs once it is durable.

        ``done(None, error)`` if it could not be written. It runs on the
        log's writer thread, so it must only hand the result on (to an event
        loop, say), never block.
        """
        self._writer.append_then(leaf_data, done, tag)

    def append_many_then(
        self, leaf_data: Sequence[bytes], done: AppendManyDone, tags: Sequence[LeafTag | None] | None = None
    ) -> None:
        """:meth:`append_many` without blocking: ``done(receipts, None)`` once all are durable.

        The entries go into one commit at consecutive indexes (``done(None,
        error)`` if it failed); ``done`` runs as :meth:`append_then`'s does.
        """
        self._writer.append_many_then(leaf_data, done, tags)

    def close(self) -> None:
        """Commit what callers are already waiting for, then stop the writer."""
        self._writer.close()

    def __enter__(self) -> ExchangeLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------

    def size(self) -> int:
        """Number of durably committed leaves."""
        return self._tree.size

    @property
    def commit_count(self) -> int:
        """Transactions committed by this process: leaves / commits is the mean group size."""
        return self._writer.commit_count

    def root(self, tree_size: int | None = None) -> bytes:
        """Merkle root of the first ``tree_size`` leaves (default: all committed)."""
        return self._tree.root(tree_size)

    def leaf_hash(self, index: int) -> bytes:
        return self._tree.leaf_hash(index)

    def leaf_data(self, index: int) -> bytes:
        """The bytes logged at ``index``."""
        self._tree.check_leaf_index(index)
        with self._engine.connect() as conn:
            data = conn.execute(select(leaves.c.leaf_data).where(leaves.c.leaf_index == index)).scalar()
        if data is None:  # only if rows vanished behind the log's back
            raise self._tree.no_leaf(index)
        return bytes(data)

    def leaves_data(self, indexes: Sequence[int]) -> dict[int, bytes]:
        """The bytes logged at each of ``indexes`` that is committed (one statement per thousand)."""
        wanted = sorted({i for i in indexes if is_count(i) and 0 <= i < self._tree.size})
        found: dict[int, bytes] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                rows = conn.execute(
                    select(leaves.c.leaf_index, leaves.c.leaf_data).where(leaves.c.leaf_index.in_(chunk))
                )
                found.update((int(i), bytes(d)) for i, d in rows)
        return found

    # -- the person index (leaf_tags) ----------------------------------------

    def tagged(self, tag: bytes, *, agency: str | None = None) -> list[int]:
        """The committed leaves indexed under ``tag`` (optionally naming ``agency``), newest first."""
        query = select(leaf_tags.c.leaf_index).where(leaf_tags.c.tag == tag, leaf_tags.c.leaf_index < self._tree.size)
        if agency is not None:
            query = query.where((leaf_tags.c.requester == agency) | (leaf_tags.c.provider == agency))
        with self._engine.connect() as conn:
            return [int(i) for (i,) in conn.execute(query.order_by(leaf_tags.c.leaf_index.desc()))]

    def is_tagged(self, tag: bytes, index: int) -> bool:
        """Whether committed leaf ``index`` is indexed under ``tag``."""
        if not is_count(index) or not 0 <= index < self._tree.size:
            return False
        with self._engine.connect() as conn:
            found = conn.execute(
                select(leaf_tags.c.leaf_index).where(leaf_tags.c.tag == tag, leaf_tags.c.leaf_index == index)
            ).first()
        return found is not None

    def tag_count(self) -> int:
        """Rows in the person index."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(leaf_tags)).scalar_one())

    def add_tags(self, rows: Sequence[tuple[bytes, int, str, str]]) -> int:
        """Index committed leaves after the fact (``kojin audit reindex``); rows already there are kept.

        How many rows were new.
        """
        fresh = [r for r in rows if is_count(r[1]) and 0 <= r[1] < self._tree.size and len(r[0]) == 32]
        if not fresh:
            return 0
        values = [{"tag": t, "leaf_index": i, "requester": a[:64], "provider": b[:64]} for t, i, a, b in fresh]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        added = 0
        with self._engine.begin() as conn:
            for start in range(0, len(values), 1000):
                statement = dialect.insert(leaf_tags).values(values[start : start + 1000]).on_conflict_do_nothing()
                # RETURNING counts what went in: rowcount is not reliable for this on every driver.
                added += len(conn.execute(statement.returning(leaf_tags.c.leaf_index)).all())
        return added

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """RFC 9162 audit path of leaf ``index`` in the tree of ``tree_size`` leaves."""
        return self._tree.inclusion_proof(index, tree_size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 proof that the tree of ``size2`` leaves extends that of ``size1``."""
        return self._tree.consistency_proof(size1, size2)

    # -- tree heads --------------------------------------------------------

    def sign_tree_head(self) -> SignedTreeHead:
        """Sign (and store) a head for the current committed size.

        Signing again without new leaves returns the stored head for that size,
        so each size has exactly one head. Timestamps never go backwards, even
        if the clock does.
        """
        return self._heads.sign(self._tree.current)

    def latest_tree_head(self) -> SignedTreeHead | None:
        """The head of the largest size signed so far, if any."""
        return self._heads.latest()

    def tree_head(self, tree_size: int) -> SignedTreeHead:
        """The stored head of exactly ``tree_size``; ``NotFound`` if none was signed."""
        return self._heads.at(tree_size)

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
        self._tree.check_leaf_index(index)
        sth = self._head_covering(index, tree_size)
        first: SignedTreeHead | None = None
        consistency: list[bytes] | None = None
        if consistency_from is not None:
            first = self._older_head(consistency_from, sth)
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

    def proof_bundles(self, indexes: Sequence[int]) -> dict[int, dict[str, object]]:
        """:meth:`proof_bundle` for several committed leaves, against one head (the latest covering them all).

        One read of the head and one of the leaves for all of them: a history
        page shows up to a hundred entries, each with its proof.
        """
        wanted = sorted(set(indexes))
        for index in wanted:
            self._tree.check_leaf_index(index)
        if not wanted:
            return {}
        sth = self._head_covering(wanted[-1], None)
        data = self.leaves_data(wanted)
        bundles: dict[int, dict[str, object]] = {}
        for index in wanted:
            if index not in data:  # only if rows vanished behind the log's back
                raise self._tree.no_leaf(index)
            bundles[index] = build_bundle(
                public_key=self._public_key,
                tree_head=sth,
                leaf_index=index,
                inclusion_proof=self.inclusion_proof(index, sth.tree_size),
                leaf_data=data[index],
                leaf_hash=self.leaf_hash(index),
            )
        return bundles

    def _head_covering(self, index: int, tree_size: int | None) -> SignedTreeHead:
        """The stored head of ``tree_size``, or the latest (signed now if it lacks leaf ``index``)."""
        if tree_size is None:
            sth = self.latest_tree_head()
            if sth is None or sth.tree_size <= index:
                sth = self.sign_tree_head()
            return sth
        sth = self.tree_head(tree_size)
        if index >= sth.tree_size:
            raise reasons.LEAF_NOT_IN_TREE_HEAD.error(index=index, tree_size=sth.tree_size)
        return sth

    def _older_head(self, consistency_from: int, sth: SignedTreeHead) -> SignedTreeHead:
        """The stored head of ``consistency_from``, which must not be larger than ``sth``."""
        first = self._heads.at(consistency_from, "consistency_from")
        if first.tree_size > sth.tree_size:
            raise reasons.MERKLE_SIZE_ORDER.error(first=first.tree_size, second=sth.tree_size, field="consistency_from")
        return first
