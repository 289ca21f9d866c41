"""Rebuilding the log's person index (``leaf_tags``) from the leaves themselves.

The hub writes a leaf's index row in the leaf's own commit, so the index only
needs rebuilding for leaves logged before it existed (or restored from a
backup of the leaves alone). A leaf names its person only by the commitment
``HMAC(subject key, requester | request id)``, so the one way back from a
leaf to its person is to try the keys of the people it could be about: those
the requester holds a code for (an agency asks only about its own people),
or everyone for a leaf whose requester holds none (a clinic's view). The
hub is the only party that can derive every person's key, so the rebuild is
its job; it costs one HMAC per leaf and candidate, and is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, select

from kojin.hub.domain import LEAF_KIND, subject_commitment, subject_tag
from kojin.hub.store import codes

# Leaves read per statement while rebuilding.
_CHUNK = 5000


class IndexedLog(Protocol):
    """What the rebuild needs of the exchange log."""

    def size(self) -> int: ...

    def leaves_data(self, indexes: Sequence[int]) -> dict[int, bytes]: ...

    def add_tags(self, rows: Sequence[tuple[bytes, int, str, str]]) -> int: ...


@dataclass(frozen=True)
class Reindexed:
    """What a rebuild did: leaves read, leaves found to be about a person, rows new to the index."""

    scanned: int
    about_someone: int
    added: int


def reindex(
    engine: Engine,
    subject_key: Callable[[str], bytes],
    exchange_log: IndexedLog,
    *,
    start: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Reindexed:
    """Index every leaf from ``start`` on that is about a person the hub knows."""
    by_agency: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for agency_id, internal_id in conn.execute(select(codes.c.agency_id, codes.c.internal_id)):
            by_agency.setdefault(str(agency_id), []).append(str(internal_id))
    everyone = sorted({i for ids in by_agency.values() for i in ids})
    keys: dict[str, bytes] = {}

    def key_of(internal_id: str) -> bytes:
        key = keys.get(internal_id)
        if key is None:
            key = keys[internal_id] = subject_key(internal_id)
        return key

    size = exchange_log.size()
    found = added = 0
    for first in range(max(0, start), size, _CHUNK):
        rows: list[tuple[bytes, int, str, str]] = []
        data = exchange_log.leaves_data(range(first, min(size, first + _CHUNK)))
        for index, raw in sorted(data.items()):
            row = _row(raw, by_agency, everyone, key_of)
            if row is not None:
                rows.append((row[0], index, row[1], row[2]))
        found += len(rows)
        added += exchange_log.add_tags(rows)
        if progress is not None:
            progress(min(size, first + _CHUNK) - start, size - start)
    return Reindexed(max(0, size - start), found, added)


def _row(
    raw: bytes, by_agency: dict[str, list[str]], everyone: list[str], key_of: Callable[[str], bytes]
) -> tuple[bytes, str, str] | None:
    """The leaf's tag and agencies, if it is about someone among the candidates."""
    try:
        leaf = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(leaf, dict) or leaf.get("kojin") != LEAF_KIND:
        return None
    requester, provider = leaf.get("requester"), leaf.get("provider")
    request_id, subject = leaf.get("request_id"), leaf.get("subject")
    if not (
        isinstance(requester, str)
        and isinstance(provider, str)
        and isinstance(request_id, str)
        and isinstance(subject, str)
    ):
        return None
    for internal_id in by_agency.get(requester) or everyone:
        key = key_of(internal_id)
        if subject_commitment(key, requester, request_id) == subject:
            return subject_tag(key), requester, provider
    return None
