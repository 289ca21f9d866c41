"""The exchange log's store (やりとり履歴ログのデータストア).

Layout
------
``leaves``
    One row per log entry: its 0-based ``leaf_index``, the RFC 9162 leaf hash,
    the opaque bytes the caller logged and when the batch holding it committed.
    The leaf hashes *are* level 0 of the Merkle tree, so they are not repeated
    in ``nodes``.
``nodes``
    Levels ``1 …`` of the tree: ``(level, node_index)`` holds the root of the
    perfect subtree over leaves ``[node_index·2^level, (node_index+1)·2^level)``
    (see :mod:`kojin.audit.merkle`). Only complete subtrees are stored, so a row
    never changes once written and the table is append-only like ``leaves``;
    it holds about one row per leaf. Keeping the interior hashes (rather than
    recomputing them from the leaves on start-up) makes a restart a plain read,
    and lets a tree that is too large for memory serve proofs from the table.
``leaf_tags``
    The index of the leaves about a person (やりとり履歴の索引): one row per
    such leaf, keyed by an opaque per-person tag the hub derives from the
    person's own subject key (never the number, never an agency's code), with
    the two agencies the leaf names. It is written in the same transaction as
    its leaf, so the two cannot diverge, but it is not part of the Merkle tree
    and not published: the tag links a person's leaves to each other, which
    the leaves alone do not. ``kojin audit reindex`` rebuilds it from the log.
``tree_heads``
    Every signed tree head the log ever issued, one per size, so that a proof
    can be given against any head someone already holds.
``log_keys``
    The log's Ed25519 signing key and its identity (``log_id``); see the
    comment on the table for how the key is kept.

Nothing is ever updated or deleted: every table only grows, and the primary
keys guarantee that no index is written twice even by a confused second
writer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

metadata = MetaData()

# On SQLite only a column declared exactly INTEGER becomes the rowid, which
# saves a separate primary-key index and makes appends and range scans cheap;
# it is 64-bit there anyway. PostgreSQL needs BIGINT for the same range.
_Index = BigInteger().with_variant(Integer(), "sqlite")

leaves = Table(
    "leaves",
    metadata,
    Column("leaf_index", _Index, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("leaf_data", LargeBinary, nullable=False),
    Column("appended_at", DateTime(timezone=True), nullable=False),
)

# WITHOUT ROWID on SQLite: the (level, node_index) key is the table's only
# access path, so clustering on it halves the storage and the insert work.
nodes = Table(
    "nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("node_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

# WITHOUT ROWID on SQLite: clustered on (tag, leaf_index), a person's rows are
# one range, read in a single seek.
leaf_tags = Table(
    "leaf_tags",
    metadata,
    Column("tag", LargeBinary(32), primary_key=True),
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("requester", String(64), nullable=False),
    Column("provider", String(64), nullable=False),
    sqlite_with_rowid=False,
)

tree_heads = Table(
    "tree_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("log_id", String(255), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)

# The signing key, PKCS#8 DER. It is encrypted (``encrypted`` true) when the
# operator supplies KOJIN_AUDIT_PASSPHRASE, which is then never written down.
# Without one it is stored in the clear on purpose: a passphrase kept in this
# same store would protect nothing against a copy of it, and pretending
# otherwise is worse than saying so. The key's secrecy is also not the log's
# last line of defence: whoever steals it can sign a forked history, but every
# tree head already handed out (in proof bundles, to auditors) pins the true
# history, and a consistency proof against it exposes the fork.
log_keys = Table(
    "log_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("log_id", String(255), nullable=False),
    Column("key_id", String(64), nullable=False),  # hex SHA-256 of the raw public key
    Column("private_key", LargeBinary, nullable=False),
    Column("encrypted", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
