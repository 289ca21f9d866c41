"""A :class:`~kojin.audit.merkle.NodeStore` on the audit party's database (ノード格納域).

:class:`SqlNodeStore` keeps every level of the tree in memory, one packed
``bytearray`` per level exactly like :class:`~kojin.audit.merkle.MemoryNodeStore`,
and treats the database as the durable copy:

* On construction it reads the whole tree back — level 0 from
  ``leaves.leaf_hash``, the higher levels from ``nodes`` — in large ordered
  chunks, once, from one snapshot (so a writer in another process cannot
  tear it). That read is the *only* way a process learns the tree, so a fresh
  process proves that what was committed is what is served. It costs about
  1.5 s per million leaves on SQLite and 64 bytes of memory per leaf; proofs
  afterwards touch only memory (about 20 µs at a million leaves). Beyond some
  hundred million leaves the lower levels would have to stay in the table and
  be read on demand; the layout allows that, this class does not do it yet.
* :meth:`append_node` (called by :class:`~kojin.audit.merkle.MerkleTree`)
  only extends the cache and remembers the new rows as *pending*.
  :meth:`write_pending` inserts them inside the caller's transaction, and the
  caller then reports the outcome: :meth:`commit_pending` after the commit
  succeeded, :meth:`rollback_pending` if it did not, which truncates the cache
  back to what is known to be in the database so memory never runs ahead of
  disk.

The store is not thread-safe; :class:`kojin.audit.log_tree.CommittedTree`
serialises access to it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from kojin.audit import reasons
from kojin.audit.merkle import HASH_SIZE, CorruptNodeStore, MemoryNodeStore
from kojin.audit.store import leaf_tags, leaves, nodes
from kojin.core.bulk import bulk_insert

__all__ = ["SqlNodeStore"]

# Rows per SELECT while loading: big enough that round trips do not matter,
# small enough that one chunk of row tuples stays a few tens of MB.
_LOAD_CHUNK = 100_000

# Rows per multi-row INSERT: within SQLite's 32,766 and PostgreSQL's 65,535
# parameters per statement.
_VALUES_ROWS = 2000


@functools.lru_cache(maxsize=128)
def _values_sql(target: str, width: int, rows: int, mark: str) -> str:
    row = "(" + ", ".join([mark] * width) + ")"
    return f"INSERT INTO {target} VALUES " + ", ".join([row] * rows)


def _values_insert(cursor: Any, target: str, width: int, mark: str, flat: list[Any]) -> None:
    """Insert rows given as one flat parameter list, in as few statements as possible.

    sqlite3 releases the GIL around every statement step; with executemany
    that is once per row, and under many appender threads each release lets
    them in front of the writer. On PostgreSQL every statement is a round
    trip. One multi-row statement pays either cost once.
    """
    step = _VALUES_ROWS * width
    for start in range(0, len(flat), step):
        chunk = flat[start : start + step]
        cursor.execute(_values_sql(target, width, len(chunk) // width, mark), chunk)


def _corrupt(level: int, detail_ja: str, detail_en: str) -> CorruptNodeStore:
    return reasons.MERKLE_CORRUPT_STORE.error(level=level, detail_ja=detail_ja, detail_en=detail_en)


class SqlNodeStore(MemoryNodeStore):
    """Tree nodes cached in memory, persisted in ``leaves`` and ``nodes``."""

    # The in-memory levels and their reads are MemoryNodeStore's; this class
    # adds what makes them durable (pending rows, commit, resync).
    __slots__ = ("_durable", "_engine", "_pending_leaves", "_pending_nodes")

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine
        # Node count per level known to be committed; the cache beyond these
        # counts is pending and is dropped by rollback_pending.
        self._durable: list[int] = []
        self._pending_leaves: list[bytes] = []
        self._pending_nodes: list[tuple[int, int, bytes]] = []
        self.resync()

    # -- NodeStore protocol -----------------------------------------------

    def append_node(self, level: int, node_hash: bytes) -> None:
        if len(node_hash) != HASH_SIZE:
            raise ValueError("node hash must be 32 bytes")
        levels = self._levels
        if level == len(levels):
            levels.append(bytearray())
            self._durable.append(0)
        elif not 0 <= level < len(levels):
            raise IndexError(level)
        if level == 0:
            self._pending_leaves.append(node_hash)
        else:
            self._pending_nodes.append((level, len(levels[level]) // HASH_SIZE, node_hash))
        levels[level] += node_hash

    # -- persistence ---------------------------------------------------------

    @property
    def pending_leaf_count(self) -> int:
        """Leaves appended to the cache but not yet reported committed."""
        return len(self._pending_leaves)

    def write_pending(
        self,
        conn: Connection,
        leaf_data: Sequence[bytes],
        appended_at: datetime,
        tag_rows: Sequence[tuple[bytes, int, str, str]] = (),
    ) -> None:
        """Insert the pending rows inside ``conn``'s transaction.

        ``leaf_data`` are the logged bytes of the pending leaves, in order; the
        caller owns them because the tree only ever sees their hashes.
        ``tag_rows`` are the ``leaf_tags`` rows of those leaves, committed with them.
        """
        pending = self._pending_leaves
        if len(leaf_data) != len(pending):
            raise ValueError(f"{len(pending)} pending leaves but {len(leaf_data)} data items")
        first = self.node_count(0) - len(pending)
        leaf_rows = [(first + i, h, d) for i, (h, d) in enumerate(zip(pending, leaf_data, strict=True))]
        dialect = conn.dialect
        if dialect.name == "postgresql" and len(leaf_rows) > _VALUES_ROWS:
            # A big append_many: COPY beats any INSERT.
            bulk_insert(
                conn,
                leaves,
                ("leaf_index", "leaf_hash", "leaf_data", "appended_at"),
                [(*row, appended_at) for row in leaf_rows],
            )
            bulk_insert(conn, nodes, ("level", "node_index", "hash"), self._pending_nodes)
            if tag_rows:
                bulk_insert(conn, leaf_tags, ("tag", "leaf_index", "requester", "provider"), tag_rows)
            return
        # The group-commit hot path: a batch is typically a few dozen rows,
        # where SQLAlchemy's per-statement work (and on PostgreSQL, COPY's
        # extra round trips) cost several times the insert itself. bytes bind
        # natively as BLOB/bytea, and the batch's one timestamp goes through
        # the column type's own processor, so the rows are exactly what
        # bulk_insert would have written.
        process = leaves.c.appended_at.type.dialect_impl(dialect).bind_processor(dialect)
        stamp = process(appended_at) if process else appended_at
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            _values_insert(
                cursor,
                "leaves (leaf_index, leaf_hash, leaf_data, appended_at)",
                4,
                mark,
                [v for row in leaf_rows for v in (*row, stamp)],
            )
            _values_insert(
                cursor, "nodes (level, node_index, hash)", 3, mark, [v for row in self._pending_nodes for v in row]
            )
            if tag_rows:
                _values_insert(
                    cursor,
                    "leaf_tags (tag, leaf_index, requester, provider)",
                    4,
                    mark,
                    [v for r in tag_rows for v in r],
                )
        finally:
            cursor.close()

    def commit_pending(self) -> None:
        """The transaction holding the pending rows has committed."""
        self._durable = [len(level) // HASH_SIZE for level in self._levels]
        self._pending_leaves.clear()
        self._pending_nodes.clear()

    def rollback_pending(self) -> None:
        """The transaction failed: forget every node not known to be committed."""
        for level, count in enumerate(self._durable):
            del self._levels[level][count * HASH_SIZE :]
        while self._levels and not self._levels[-1]:
            self._levels.pop()
            self._durable.pop()
        self._pending_leaves.clear()
        self._pending_nodes.clear()

    def resync(self) -> None:
        """Read every committed row the cache does not hold yet.

        The first call loads the whole tree. Later calls pick up rows a
        transaction of unknown outcome did commit after all (a connection lost
        during COMMIT), so the cache again equals the database. Pending rows
        must have been committed or rolled back first.
        """
        if self._pending_leaves or self._pending_nodes:
            raise RuntimeError("resync with pending rows")
        sqlite = self._engine.dialect.name == "sqlite"
        # All levels must come from one snapshot: a writer committing between
        # two reads would leave parents without their children in the cache.
        options = {} if sqlite else {"isolation_level": "REPEATABLE READ"}
        with self._engine.connect().execution_options(**options) as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            # Straight to the driver: at a million leaves SQLAlchemy's Row
            # objects would double the restart time, for two plain columns.
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            cursor = driver.cursor()
            try:
                if sqlite:
                    # sqlite3 opens no transaction for a SELECT by itself;
                    # WAL gives this read transaction its snapshot.
                    cursor.execute("BEGIN")
                self._load_level(cursor, 0, "leaf_index", "SELECT leaf_index, leaf_hash FROM leaves WHERE", (), mark)
                level = 1
                # A level can only be non-empty if the one below it is.
                while self.node_count(level - 1) >= 2:
                    self._load_level(
                        cursor,
                        level,
                        "node_index",
                        f"SELECT node_index, hash FROM nodes WHERE level = {mark} AND",
                        (level,),
                        mark,
                    )
                    level += 1
            finally:
                cursor.close()
                driver.rollback()
        self._durable = [len(lv) // HASH_SIZE for lv in self._levels]

    def _load_level(
        self, cursor: Any, level: int, index: str, select_where: str, params: tuple[int, ...], mark: str
    ) -> None:
        """Append to ``level`` every stored node beyond the cached ones, checking for gaps.

        ``select_where`` is a constant "SELECT <index>, <hash> FROM … WHERE"
        prefix; keyset pagination on ``index`` keeps every chunk an index
        range scan.
        """
        position = self.node_count(level)
        query = f"{select_where} {index} >= {mark} ORDER BY {index} LIMIT {_LOAD_CHUNK}"
        while True:
            cursor.execute(query, (*params, position))
            rows = cursor.fetchall()
            if not rows:
                return
            # Ordered and unique (primary key), so first and last in place
            # means no gap anywhere in the chunk.
            if rows[0][0] != position or rows[-1][0] != position + len(rows) - 1:
                raise _corrupt(level, f"{position}番以降に欠番があります。", f"a gap after index {position}.")
            hashes = [bytes(r[1]) for r in rows]
            if any(len(h) != HASH_SIZE for h in hashes):
                raise _corrupt(level, "32バイトでないハッシュがあります。", "a hash that is not 32 bytes.")
            while len(self._levels) <= level:
                self._levels.append(bytearray())
            self._levels[level] += b"".join(hashes)
            position += len(rows)
            if len(rows) < _LOAD_CHUNK:
                return
