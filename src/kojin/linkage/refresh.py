"""Keeping the comparison keys up to date with the register (索引の更新), and the matcher over them loaded.

The register is read only through :class:`~kojin.registry.service.RegisterService`
(``iter_residents``, ``get``, ``history_of``) and its change events; what it
says becomes comparison keys here, which :mod:`kojin.linkage.keys` stores. The
in-memory :class:`~kojin.linkage.matcher.Matcher` over them is loaded once per
process — from the snapshot of the keys' generation when there is one — and
again after a refresh changed them.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from kojin.core.errors import NotFound
from kojin.core.events import Event
from kojin.linkage import snapshot
from kojin.linkage.index import MatchIndex
from kojin.linkage.keys import KeyStore
from kojin.linkage.matcher import Matcher
from kojin.linkage.normalise import AddressKey, fold_area, parse_one_line, register_address
from kojin.linkage.records import NameForm, ResidentEntry, entry_of_row
from kojin.linkage.scoring import Model
from kojin.registry import postal
from kojin.registry.domain import EventKind, HistoryEntry, Resident
from kojin.registry.service import RegisterService

__all__ = ["IndexKeeper", "IndexStats", "no_gc"]

_FLUSH = 20_000


@dataclass(frozen=True)
class IndexStats:
    """What a refresh of the comparison keys did."""

    residents: int
    added: int
    refreshed: int
    seconds: float


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic collector while a million objects are built that will all live on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _index_of(contents: snapshot.IndexRows) -> MatchIndex:
    """The blocking index over ``contents`` (a million rows at start-up, so written out flat)."""
    index = MatchIndex()
    old_names, old_addresses = contents.old_names, contents.old_addresses
    add_row = index.add_row
    for row, ordinal in zip(contents.rows, contents.ordinals, strict=True):
        rid = row[0]
        if rid in old_names or rid in old_addresses:
            entry = entry_of_row(row, ordinal)
            entry.names = (*entry.names, *(NameForm(*n) for n in old_names.get(rid, ())))
            entry.addresses = (*entry.addresses, *(AddressKey(*a) for a in old_addresses.get(rid, ())))
            index.add(entry)
        else:
            add_row(row, ordinal)
    return index


class IndexKeeper:
    """The comparison keys of the register's residents and the matcher over them."""

    def __init__(self, keys: KeyStore, register: RegisterService, model: Model) -> None:
        self.keys = keys
        self.register = register
        self.model = model
        self._matcher: Matcher | None = None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._towns: dict[str, dict[str, str]] = {}

    def note_change(self, event: Event) -> None:
        """A register event: the resident's keys are rebuilt on the next refresh."""
        resident_id = event.payload.get("resident_id")
        if isinstance(resident_id, int):
            self.keys.note_stale(resident_id)

    def _town_codes(self, municipality_code: str) -> dict[str, str]:
        towns = self._towns.get(municipality_code)
        if towns is None:
            towns = {}
            for area in postal.areas_in(municipality_code):
                towns.setdefault(fold_area(area.town), area.postal_code)
            self._towns[municipality_code] = towns
        return towns

    def entry_for(self, resident: Resident, history: Sequence[HistoryEntry] = ()) -> ResidentEntry:
        """A resident's comparison keys, with old names and addresses from ``history``."""
        a = resident.address
        names = [NameForm.of(resident.name, resident.kana)]
        addresses = [register_address(a.postal_code, a.prefecture, a.city, a.town, a.block)]
        for item in history:
            if item.kind is EventKind.NAME_CHANGE and item.details.get("from"):
                form = NameForm.of(item.details["from"], item.details.get("from_kana", ""))
                if form not in names:
                    names.append(form)
            elif item.kind is EventKind.MOVE_WITHIN and item.details.get("from"):
                old = parse_one_line(
                    item.details["from"], a.prefecture, a.city, self._town_codes(resident.municipality_code)
                )
                if old is not None and old not in addresses:
                    addresses.append(old)
        b = resident.birth_date
        return ResidentEntry(
            resident.resident_id,
            resident.juminhyo_code,
            resident.status.value,
            resident.sex.value,
            (b.year, b.month, b.day),
            tuple(names),
            tuple(addresses),
        )

    def refresh(
        self, *, rebuild: bool = False, full_history: bool = False, progress: Callable[[int], None] | None = None
    ) -> IndexStats:
        """Bring the comparison keys up to date with the register (索引の更新).

        New residents are read in id order after the last one seen; residents the
        register reported changed are read again with their history. ``rebuild``
        starts over; ``full_history`` reads every resident's history (slow: one
        query each), for registers that changed before this service existed.
        """
        started = time.perf_counter()
        with self._refresh_lock:
            last, noted, with_history = self.keys.state()
            stale = set(noted)
            if rebuild or last is None:
                self.keys.clear()
                last = 0
                stale |= with_history
            added, newest = self._add_new(last, stale, full_history, progress)
            self.keys.mark(newest)
            refreshed = self._entries_again([i for i in stale if i <= newest])
            if refreshed:
                self.keys.store(refreshed, replace=True)
            total = self.keys.settle(sorted(noted))
            if added or refreshed or rebuild:
                self.forget()
            if progress:
                progress(added)
        return IndexStats(total, added, len(refreshed), time.perf_counter() - started)

    def _add_new(
        self, last: int, stale: set[int], full_history: bool, progress: Callable[[int], None] | None
    ) -> tuple[int, int]:
        """Store the keys of residents after ``last``, taking those read out of ``stale``;
        returns how many were added and the last resident read."""
        added = 0
        batch: list[ResidentEntry] = []
        newest = last
        for resident in self.register.iter_residents(after=last, batch=5000):
            rid = resident.resident_id
            history = self.register.history_of(rid) if full_history or rid in stale else ()
            stale.discard(rid)
            batch.append(self.entry_for(resident, history))
            newest = rid
            if len(batch) >= _FLUSH:
                self.keys.store(batch, replace=False, last=newest)
                added += len(batch)
                batch = []
                if progress:
                    progress(added)
        if batch:
            self.keys.store(batch, replace=False, last=newest)
            added += len(batch)
        return added, newest

    def _entries_again(self, changed: Sequence[int]) -> list[ResidentEntry]:
        entries: list[ResidentEntry] = []
        for rid in changed:
            try:
                entries.append(self.entry_for(self.register.get(rid), self.register.history_of(rid)))
            except NotFound:
                continue
        return entries

    def _load(self) -> MatchIndex:
        """The index over the stored keys: from the snapshot of their current generation when
        there is one, else read from the keys (and a snapshot stored for the next process)."""
        with self.keys.engine.connect() as conn:
            generation = snapshot.current_generation(conn)
            contents = snapshot.read(conn, generation)
        if contents is None:
            contents, read_at = self.keys.read_all()
            if read_at is not None:
                snapshot.write(self.keys.engine, read_at, contents)
        return _index_of(contents)

    def matcher(self) -> Matcher:
        """The in-memory matcher over the stored keys (loaded once per process, again after a refresh)."""
        with self._lock:
            if self._matcher is None:
                with no_gc():
                    self._matcher = Matcher(self._load(), self.model)
            return self._matcher

    def forget(self) -> None:
        """Drop the loaded matcher; the next use loads the keys again."""
        with self._lock:
            self._matcher = None
