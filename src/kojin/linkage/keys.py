"""The stored comparison keys (照合キー): every statement on ``resident_keys``,
``history_keys``, ``stale_residents`` and the refresh mark in ``index_state``.

What the keys are made of is the refresh's business (:mod:`kojin.linkage.refresh`);
this module only writes them as rows, reads them back as the plain values the
matcher's index is built from, and keeps the refresh's place — so the shape of
these tables is known in one place.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.bulk import bulk_insert, select_in
from kojin.linkage import snapshot
from kojin.linkage.records import ResidentEntry
from kojin.linkage.store import history_keys, index_state, resident_keys, stale_residents

__all__ = ["KeyStore", "RefreshState"]

_KEY_COLUMNS = (
    "resident_id",
    "juminhyo_code",
    "status",
    "sex",
    "birth_date",
    "surname",
    "given",
    "surname_kana",
    "given_kana",
    "postal_code",
    "prefecture",
    "city",
    "town",
    "numbers",
    "surname_strict",
    "given_strict",
)
_HISTORY_COLUMNS = (
    "resident_id",
    "kind",
    "surname",
    "given",
    "surname_kana",
    "given_kana",
    "postal_code",
    "prefecture",
    "city",
    "town",
    "numbers",
    "surname_strict",
    "given_strict",
)

# The residents a refresh has read up to, the residents the register said changed,
# and the residents with old keys.
RefreshState = tuple[int | None, set[int], set[int]]


def _numbers_text(numbers: tuple[int, ...]) -> str:
    return "-".join(str(n) for n in numbers)


@lru_cache(maxsize=1 << 16)
def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split("-")) if text else ()


def _rows(entry: ResidentEntry) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """``entry``'s current keys as one ``resident_keys`` row, its old ones as ``history_keys`` rows."""
    name, address = entry.names[0], entry.addresses[0]
    row = (
        entry.resident_id,
        entry.juminhyo_code,
        entry.status,
        entry.sex,
        date(*entry.birth),
        name.surname,
        name.given,
        name.surname_kana,
        name.given_kana,
        address.postal_code,
        address.prefecture,
        address.city,
        address.town,
        _numbers_text(address.numbers),
        name.surname_strict,
        name.given_strict,
    )
    old: list[tuple[Any, ...]] = [
        (
            entry.resident_id,
            "name",
            n.surname,
            n.given,
            n.surname_kana,
            n.given_kana,
            "",
            "",
            "",
            "",
            "",
            n.surname_strict,
            n.given_strict,
        )
        for n in entry.names[1:]
    ]
    old.extend(
        (
            entry.resident_id,
            "address",
            "",
            "",
            "",
            "",
            k.postal_code,
            k.prefecture,
            k.city,
            k.town,
            _numbers_text(k.numbers),
            "",
            "",
        )
        for k in entry.addresses[1:]
    )
    return row, old


def _mark(conn: Connection, last: int) -> None:
    done = conn.execute(
        update(index_state).where(index_state.c.id == 1).values(last_resident_id=last, refreshed_at=datetime.now(UTC))
    ).rowcount
    if not done:
        conn.execute(insert(index_state).values(id=1, last_resident_id=last, refreshed_at=datetime.now(UTC)))


def _read_old_keys(conn: Connection, contents: snapshot.IndexRows) -> None:
    old_names, old_addresses = contents.old_names, contents.old_addresses
    for h in conn.execute(select(history_keys).order_by(history_keys.c.id)):
        if h.kind == "name":
            old_names.setdefault(h.resident_id, []).append(
                (h.surname, h.given, h.surname_kana, h.given_kana, h.surname_strict, h.given_strict)
            )
        else:
            old_addresses.setdefault(h.resident_id, []).append(
                (h.postal_code, h.prefecture, h.city, h.town, _numbers(h.numbers))
            )


def _read_current_keys(conn: Connection, contents: snapshot.IndexRows) -> None:
    """The current keys through the raw driver cursor: this is a million rows at start-up,
    and the ORM's row handling would cost more than the rest."""
    rows, ordinals = contents.rows, contents.ordinals
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        # Not the 住民票コード: one unique string per resident, needed only when a
        # code is issued, and then read by itself (KeyStore.juminhyo_code).
        columns = [c for c in _KEY_COLUMNS if c != "juminhyo_code"]
        cursor.execute(f"SELECT {', '.join(columns)} FROM resident_keys ORDER BY resident_id")
        numbers_of: dict[str, tuple[int, ...]] = {}
        intern = sys.intern
        # Few distinct values: one shared string each, found by a dict look-up.
        common: dict[str, str] = {}
        shared = common.setdefault
        births: dict[object, tuple[tuple[int, int, int], int]] = {}
        add_row, add_ordinal = rows.append, ordinals.append
        while batch := cursor.fetchmany(50_000):
            for (
                rid,
                status,
                sex,
                born,
                surname,
                given,
                s_kana,
                g_kana,
                postal_code,
                pref,
                city,
                town,
                numbers,
                s_strict,
                g_strict,
            ) in batch:
                known = births.get(born)
                if known is None:
                    day = date.fromisoformat(born) if isinstance(born, str) else born
                    known = births[born] = ((day.year, day.month, day.day), day.toordinal())
                parsed = numbers_of.get(numbers)
                if parsed is None:
                    parsed = numbers_of[numbers] = _numbers(numbers)
                add_row(
                    (
                        rid,
                        "",
                        shared(status, status),
                        shared(sex, sex),
                        known[0],
                        intern(surname),
                        intern(given),
                        intern(s_kana),
                        intern(g_kana),
                        shared(postal_code, postal_code),
                        shared(pref, pref),
                        shared(city, city),
                        shared(town, town),
                        parsed,
                        intern(s_strict),
                        intern(g_strict),
                    )
                )
                add_ordinal(known[1])
    finally:
        cursor.close()


class KeyStore:
    """The comparison keys as stored, and where the last refresh stopped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def note_stale(self, resident_id: int) -> None:
        """Remember that the register changed a resident, for the next refresh."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(stale_residents).values(resident_id=resident_id, noted_at=datetime.now(UTC)))
        except IntegrityError:
            pass  # already noted

    def state(self) -> RefreshState:
        with self.engine.connect() as conn:
            last = conn.execute(select(index_state.c.last_resident_id).where(index_state.c.id == 1)).scalar()
            noted = {int(r) for r in conn.execute(select(stale_residents.c.resident_id)).scalars()}
            with_history = {int(r) for r in conn.execute(select(history_keys.c.resident_id).distinct()).scalars()}
        return (None if last is None else int(last)), noted, with_history

    def clear(self) -> None:
        """Drop every key; stopped before the first batch, the next refresh starts over."""
        with self.engine.begin() as conn:
            snapshot.bump(conn)
            conn.execute(delete(resident_keys))
            conn.execute(delete(history_keys))
            _mark(conn, 0)

    def store(self, entries: list[ResidentEntry], replace: bool, *, last: int | None = None) -> None:
        """Write ``entries``' keys; with ``last``, record in the same transaction that residents
        up to it are read, so a refresh stopped between two batches resumes without duplicates."""
        rows: list[tuple[Any, ...]] = []
        old: list[tuple[Any, ...]] = []
        for entry in entries:
            row, extra = _rows(entry)
            rows.append(row)
            old.extend(extra)
        ids = [e.resident_id for e in entries]
        with self.engine.begin() as conn:
            snapshot.bump(conn)
            if replace:
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    conn.execute(delete(resident_keys).where(resident_keys.c.resident_id.in_(chunk)))
                    conn.execute(delete(history_keys).where(history_keys.c.resident_id.in_(chunk)))
            bulk_insert(conn, resident_keys, _KEY_COLUMNS, rows)
            if old:
                conn.execute(insert(history_keys), [dict(zip(_HISTORY_COLUMNS, r, strict=True)) for r in old])
            if last is not None:
                _mark(conn, last)

    def mark(self, last: int) -> None:
        """Record that residents up to ``last`` are read."""
        with self.engine.begin() as conn:
            _mark(conn, last)

    def settle(self, handled: list[int]) -> int:
        """Forget the ``handled`` notes of changed residents; returns how many residents have keys."""
        with self.engine.begin() as conn:
            for i in range(0, len(handled), 500):
                conn.execute(delete(stale_residents).where(stale_residents.c.resident_id.in_(handled[i : i + 500])))
            return int(conn.execute(select(func.count()).select_from(resident_keys)).scalar_one())

    def read_all(self) -> tuple[snapshot.IndexRows, int | None]:
        """Every stored key as plain values, and the generation they are of (None if they
        changed while being read)."""
        contents = snapshot.IndexRows()
        with self.engine.connect() as conn:
            before = snapshot.current_generation(conn)
            _read_old_keys(conn, contents)
            _read_current_keys(conn, contents)
            after = snapshot.current_generation(conn)
        return contents, (before if before == after else None)

    def residents_of(self, juminhyo_codes: Sequence[str]) -> dict[str, int]:
        """The resident of each 住民票コード the keys know."""
        with self.engine.connect() as conn:
            return {
                str(code): int(rid)
                for code, rid in select_in(
                    conn, resident_keys, ("juminhyo_code", "resident_id"), "juminhyo_code", list(juminhyo_codes)
                )
            }

    def juminhyo_code(self, resident_id: int) -> str | None:
        with self.engine.connect() as conn:
            code = conn.execute(
                select(resident_keys.c.juminhyo_code).where(resident_keys.c.resident_id == resident_id)
            ).scalar()
        return str(code) if code else None
