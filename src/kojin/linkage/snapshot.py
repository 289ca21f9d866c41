"""Snapshots of the matching index's rows (索引のスナップショット).

A process that matches first loads every resident's comparison keys: at a
million residents, reading and converting the rows is most of a 20 s start.
The same rows as plain tuples, marshalled into one value, load in under a
second. The snapshot is a cache in the linkage store itself, for one
*generation* of the keys: every transaction that changes them raises
``index_state.generation``, and a snapshot is used only while its generation
is the current one, so a stale snapshot is never read. It holds what the keys
table holds — folded names, readings, birth dates, structured addresses — and,
like it, no individual number and no 住民票コード.

``marshal`` is used because the rows are only tuples, strings and ints, which
it reads fastest; its format belongs to the Python version, which is part of
:data:`FORMAT`, so a snapshot from another version is ignored and replaced.
"""

from __future__ import annotations

import logging
import marshal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kojin.linkage.matcher import KeyRow
from kojin.linkage.store import index_snapshots, index_state

__all__ = ["FORMAT", "IndexRows", "bump", "current_generation", "read", "write"]

log = logging.getLogger(__name__)

FORMAT = f"index-1/marshal-{marshal.version}/py{sys.version_info[0]}.{sys.version_info[1]}"
"""What a snapshot's bytes are; a snapshot in any other format is not read."""

_PART = 32 << 20  # bytes per stored part: well under PostgreSQL's 1 GB a value

# Old names as (surname, given, surname_kana, given_kana, surname_strict, given_strict);
# old addresses as (postal_code, prefecture, city, town, numbers).
OldName = tuple[str, str, str, str, str, str]
OldAddress = tuple[str, str, str, str, tuple[int, ...]]


@dataclass
class IndexRows:
    """The index's contents as plain values: current keys (``KeyRow`` tuples), birth ordinals, old keys."""

    rows: list[KeyRow] = field(default_factory=list)
    ordinals: list[int] = field(default_factory=list)
    old_names: dict[int, list[OldName]] = field(default_factory=dict)
    old_addresses: dict[int, list[OldAddress]] = field(default_factory=dict)


def current_generation(conn: Connection) -> int:
    """The generation of the keys as ``conn`` sees them (0 before the first refresh)."""
    found = conn.execute(select(index_state.c.generation).where(index_state.c.id == 1)).scalar()
    return int(found or 0)


def bump(conn: Connection) -> None:
    """Raise the generation inside a transaction that changes the keys."""
    done = conn.execute(
        update(index_state).where(index_state.c.id == 1).values(generation=index_state.c.generation + 1)
    ).rowcount
    if not done:
        conn.execute(insert(index_state).values(id=1, last_resident_id=0, refreshed_at=datetime.now(UTC), generation=1))


def read(conn: Connection, generation: int) -> IndexRows | None:
    """The snapshot of ``generation``, or None when there is none (or it cannot be read)."""
    parts = conn.execute(
        select(index_snapshots.c.part, index_snapshots.c.format, index_snapshots.c.data)
        .where(index_snapshots.c.generation == generation)
        .order_by(index_snapshots.c.part)
    ).all()
    if not parts or any(p.format != FORMAT for p in parts) or [p.part for p in parts] != list(range(len(parts))):
        return None
    try:
        value = marshal.loads(b"".join(bytes(p.data) for p in parts))
        tag, rows, ordinals, old_names, old_addresses = value
        if tag != FORMAT or len(rows) != len(ordinals):
            raise ValueError("inconsistent snapshot")
    except (ValueError, EOFError, TypeError) as exc:
        log.warning("index snapshot %d not usable (%s); loading the keys instead", generation, type(exc).__name__)
        return None
    return IndexRows(rows, ordinals, old_names, old_addresses)


def write(engine: Engine, generation: int, contents: IndexRows) -> bool:
    """Store ``contents`` as the snapshot of ``generation`` and drop older ones; False if another process did."""
    blob = marshal.dumps((FORMAT, contents.rows, contents.ordinals, contents.old_names, contents.old_addresses))
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            if current_generation(conn) != generation:
                # The keys changed meanwhile: this snapshot would never be read. (Should a
                # change commit after this check, the snapshot is stored and never read.)
                return False
            # Older generations, and this one in another format (another Python's), go.
            conn.execute(
                delete(index_snapshots).where(
                    or_(index_snapshots.c.generation < generation, index_snapshots.c.format != FORMAT)
                )
            )
            conn.execute(
                insert(index_snapshots),
                [
                    {
                        "generation": generation,
                        "part": n,
                        "format": FORMAT,
                        "data": blob[i : i + _PART],
                        "created_at": now,
                    }
                    for n, i in enumerate(range(0, max(1, len(blob)), _PART))
                ],
            )
    except IntegrityError:
        return False  # another process stored this generation first
    return True
