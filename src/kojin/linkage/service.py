"""The matching service (基本4情報による個人番号取得支援): J-LIS's party.

An agency that lacks a person's number sends the four basic items; the
service answers with the agency's own code (機関別符号) for the one person the
rule is sure of, or opens a review case. It reads the register only through
:class:`~kojin.registry.service.RegisterService` (``iter_residents``, ``get``,
``history_of``) and the register's change events, and keeps its own
comparison keys; it turns a person into a code only the way J-LIS does —
住民票コード → number → link id (:meth:`NumberingService.link_id_for`) → the hub's
:meth:`HubService.issue_code` — so the number is never stored here.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import multiprocessing
import multiprocessing.queues
import os
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.bulk import bulk_insert, select_in
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kojin.core.events import Event, EventBus
from kojin.core.keys import party_secret
from kojin.hub.service import HubService
from kojin.linkage import snapshot
from kojin.linkage.audit import AccountSource, AuditReport, LinkRow, run_audit
from kojin.linkage.matcher import (
    Candidate,
    Decision,
    Matcher,
    MatchIndex,
    MatchResult,
    MemberRecord,
    NameForm,
    Reason,
    ReasonItem,
    ResidentEntry,
    entry_of_row,
)
from kojin.linkage.members import Outcome
from kojin.linkage.normalise import AddressKey, fold_area, parse_one_line, register_address
from kojin.linkage.scoring import FIELDS, Model
from kojin.linkage.store import (
    batches,
    cases,
    decisions,
    history_keys,
    index_state,
    links,
    match_secrets,
    resident_keys,
    stale_residents,
)
from kojin.numbering.service import NumberingService
from kojin.registry import postal
from kojin.registry.domain import EventKind, HistoryEntry, Resident, Sex
from kojin.registry.service import ADDRESS_CHANGED, DECEASED, MOVED_OUT, NAME_CHANGED, RegisterService

__all__ = ["CandidateView", "CaseSummary", "CaseView", "DecisionRecord", "IndexStats", "MatchingService"]

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
_FLUSH = 20_000
_PARALLEL_FROM = 20_000
_CSRF_LIFETIME = 2 * 3600


@dataclass(frozen=True)
class IndexStats:
    """What a refresh of the comparison keys did."""

    residents: int
    added: int
    refreshed: int
    seconds: float


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    agency_id: str
    member_id: str
    member_name: str
    reasons: tuple[ReasonItem, ...]
    candidates: int
    score: float | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class CandidateView:
    """A candidate as the clerk sees it: the register's items beside the levels."""

    resident_id: int
    score: float
    levels: dict[str, str]
    name: str
    kana: str
    sex: str
    birth_date: date
    postal_code: str
    address: str
    status: str
    old_names: tuple[str, ...]
    old_addresses: tuple[str, ...]
    via_old_name: bool
    via_old_address: bool


@dataclass(frozen=True)
class DecisionRecord:
    """A clerk's decision (判断記録)."""

    case_id: int
    outcome: str
    resident_id: int | None
    clerk: str
    decided_at: datetime
    agency_code: str | None = None


@dataclass(frozen=True)
class CaseView:
    case_id: int
    agency_id: str
    member: MemberRecord
    reasons: tuple[ReasonItem, ...]
    candidates: tuple[CandidateView, ...]
    score: float | None
    status: str
    created_at: datetime
    decisions: tuple[DecisionRecord, ...] = field(default_factory=tuple)


def _numbers_text(numbers: tuple[int, ...]) -> str:
    return "-".join(str(n) for n in numbers)


@lru_cache(maxsize=1 << 16)
def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split("-")) if text else ()


def _member_json(member: MemberRecord) -> str:
    return json.dumps(
        {
            "member_id": member.member_id,
            "name": member.name,
            "kana": member.kana,
            "sex": member.sex.value,
            "birth_date": member.birth_date.isoformat(),
            "postal_code": member.postal_code,
            "address": member.address,
        },
        ensure_ascii=False,
    )


def _member_from(text: str) -> MemberRecord:
    data = json.loads(text)
    return MemberRecord(
        data["member_id"],
        data["name"],
        data["kana"],
        Sex(data["sex"]),
        date.fromisoformat(data["birth_date"]),
        data["postal_code"],
        data["address"],
    )


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "resident_id": candidate.resident_id,
        "score": round(candidate.score, 2),
        "levels": dict(zip(FIELDS, candidate.levels, strict=True)),
        "via_old_name": candidate.via_old_name,
        "via_old_address": candidate.via_old_address,
    }


def _reasons(text: str) -> tuple[ReasonItem, ...]:
    return tuple(ReasonItem.parse(part) for part in text.split(";") if part)


# Worker processes inherit the matcher and the members by fork; only plain tuples
# travel back, because unpickling dataclasses in the parent would cost more than matching.
_WORK: tuple[Matcher, Sequence[MemberRecord]] | None = None
_DECISIONS = tuple(Decision)
_Packed = tuple[
    int, int | None, float | None, tuple[tuple[str, str | None], ...], tuple[tuple[Any, ...], ...], str | None
]


def _pack(result: MatchResult) -> _Packed:
    return (
        _DECISIONS.index(result.decision),
        result.resident_id,
        result.score,
        tuple((r.code.value, r.field) for r in result.reasons),
        tuple(
            (c.resident_id, c.score, c.levels, c.via_old_name, c.via_old_address, c.kanji_exact, c.kana_exact, c.status)
            for c in result.candidates
        ),
        result.address_level,
    )


def _unpack(member: MemberRecord, packed: _Packed) -> MatchResult:
    decision, resident_id, score, reasons, candidates, address_level = packed
    return MatchResult(
        member,
        _DECISIONS[decision],
        resident_id,
        score,
        tuple(ReasonItem(Reason(c), f) for c, f in reasons),
        tuple(Candidate(*c) for c in candidates),
        address_level,
    )


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic collector while a million objects are built that will all live on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _take(counter: Any) -> int:
    """The next slice's number, shared by every worker."""
    with counter.get_lock():
        n = int(counter.value)
        counter.value = n + 1
    return n


def _worker(counter: Any, ranges: Sequence[tuple[int, int]], results: Any) -> None:
    assert _WORK is not None
    matcher, members = _WORK
    while (n := _take(counter)) < len(ranges):
        results.put((n, [_pack(matcher.match(members[i])) for i in range(*ranges[n])]))
    results.close()
    results.join_thread()


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


class MatchingService:
    """照合サービス: J-LIS's service for agencies that lack a person's number."""

    def __init__(
        self,
        engine: Engine,
        register: RegisterService,
        numbering: NumberingService,
        hub: HubService,
        bus: EventBus,
        *,
        model: Model | None = None,
    ) -> None:
        self.engine = engine
        self.register = register
        self.numbering = numbering
        self.hub = hub
        self.model = model or Model()
        self._matcher: Matcher | None = None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._towns: dict[str, dict[str, str]] = {}
        self._key: bytes | None = None
        # The register says who changed; the keys of those residents are rebuilt on the next refresh.
        for name in (ADDRESS_CHANGED, NAME_CHANGED, MOVED_OUT, DECEASED):
            bus.subscribe(name, self._note_change)

    # -- keys ----------------------------------------------------------------------------------
    def ensure_key(self) -> None:
        """Create the CSRF signing key once (idempotent, safe between processes)."""
        self._secret()

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = party_secret(self.engine, match_secrets)
        return self._key

    def csrf_token(self, purpose: str, *, now: float | None = None) -> str:
        """A signed token for a form (CSRF対策): issue time and an HMAC of purpose and time."""
        issued = int(now if now is not None else time.time())
        mac = hmac.new(self._secret(), f"kojin-csrf|{purpose}|{issued}".encode(), hashlib.sha256).hexdigest()
        return f"{issued}.{mac}"

    def check_csrf(self, token: str, purpose: str, *, now: float | None = None) -> None:
        issued_text, _, mac = token.partition(".")
        current = now if now is not None else time.time()
        ok = issued_text.isdigit() and 0 <= current - int(issued_text) <= _CSRF_LIFETIME
        expected = hmac.new(self._secret(), f"kojin-csrf|{purpose}|{issued_text}".encode(), hashlib.sha256).hexdigest()
        if not (ok and hmac.compare_digest(mac, expected)):
            raise NotPermitted(
                "linkage.csrf",
                "フォームの有効期限が切れたか、正しくありません。もう一度開き直してください。",
                "The form has expired or is not valid; open it again.",
                field="csrf_token",
            )

    # -- comparison keys -----------------------------------------------------------------------
    def _note_change(self, event: Event) -> None:
        resident_id = event.payload.get("resident_id")
        if not isinstance(resident_id, int):
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(stale_residents).values(resident_id=resident_id, noted_at=datetime.now(UTC)))
        except IntegrityError:
            pass  # already noted

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

    @staticmethod
    def _rows(entry: ResidentEntry) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
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

    def _store(self, entries: list[ResidentEntry], replace: bool, *, last: int | None = None) -> None:
        """Write ``entries``' keys; with ``last``, record in the same transaction that residents
        up to it are read, so a refresh stopped between two batches resumes without duplicates."""
        rows: list[tuple[Any, ...]] = []
        old: list[tuple[Any, ...]] = []
        for entry in entries:
            row, extra = self._rows(entry)
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
                self._mark(conn, last)

    def refresh_index(
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
            with self.engine.connect() as conn:
                last = conn.execute(select(index_state.c.last_resident_id).where(index_state.c.id == 1)).scalar()
                noted = {int(r) for r in conn.execute(select(stale_residents.c.resident_id)).scalars()}
                stale = set(noted)
                with_history = {int(r) for r in conn.execute(select(history_keys.c.resident_id).distinct()).scalars()}
            if rebuild or last is None:
                with self.engine.begin() as conn:
                    snapshot.bump(conn)
                    conn.execute(delete(resident_keys))
                    conn.execute(delete(history_keys))
                    self._mark(conn, 0)  # stopped before the first batch, the next refresh starts over
                last = 0
                stale |= with_history
            added = 0
            batch: list[ResidentEntry] = []
            newest = int(last)
            for resident in self.register.iter_residents(after=int(last), batch=5000):
                rid = resident.resident_id
                history = self.register.history_of(rid) if full_history or rid in stale else ()
                stale.discard(rid)
                batch.append(self.entry_for(resident, history))
                newest = rid
                if len(batch) >= _FLUSH:
                    self._store(batch, replace=False, last=newest)
                    added += len(batch)
                    batch = []
                    if progress:
                        progress(added)
            if batch:
                self._store(batch, replace=False, last=newest)
                added += len(batch)
            with self.engine.begin() as conn:
                self._mark(conn, newest)
            changed = [i for i in stale if i <= newest]
            refreshed: list[ResidentEntry] = []
            for rid in changed:
                try:
                    refreshed.append(self.entry_for(self.register.get(rid), self.register.history_of(rid)))
                except NotFound:
                    continue
            if refreshed:
                self._store(refreshed, replace=True)
            handled = sorted(noted)
            with self.engine.begin() as conn:
                for i in range(0, len(handled), 500):
                    conn.execute(delete(stale_residents).where(stale_residents.c.resident_id.in_(handled[i : i + 500])))
                total = int(conn.execute(select(func.count()).select_from(resident_keys)).scalar_one())
            if added or refreshed or rebuild:
                with self._lock:
                    self._matcher = None
            if progress:
                progress(added)
        return IndexStats(total, added, len(refreshed), time.perf_counter() - started)

    @staticmethod
    def _mark(conn: Connection, last: int) -> None:
        done = conn.execute(
            update(index_state)
            .where(index_state.c.id == 1)
            .values(last_resident_id=last, refreshed_at=datetime.now(UTC))
        ).rowcount
        if not done:
            conn.execute(insert(index_state).values(id=1, last_resident_id=last, refreshed_at=datetime.now(UTC)))

    def _load_index(self) -> MatchIndex:
        """The index over the stored keys: from the snapshot of their current generation when
        there is one, else read from the keys (and a snapshot stored for the next process)."""
        with self.engine.connect() as conn:
            generation = snapshot.current_generation(conn)
            contents = snapshot.read(conn, generation)
        if contents is None:
            contents, read_at = self._read_keys()
            if read_at is not None:
                snapshot.write(self.engine, read_at, contents)
        return _index_of(contents)

    def _read_keys(self) -> tuple[snapshot.IndexRows, int | None]:
        """Every stored key as plain values, and the generation they are of (None if they
        changed while being read); the raw driver cursor, because this is a million rows
        at start-up and the ORM's row handling would cost more than the rest."""
        contents = snapshot.IndexRows()
        old_names, old_addresses = contents.old_names, contents.old_addresses
        rows, ordinals = contents.rows, contents.ordinals
        with self.engine.connect() as conn:
            before = snapshot.current_generation(conn)
            for h in conn.execute(select(history_keys).order_by(history_keys.c.id)):
                if h.kind == "name":
                    old_names.setdefault(h.resident_id, []).append(
                        (h.surname, h.given, h.surname_kana, h.given_kana, h.surname_strict, h.given_strict)
                    )
                else:
                    old_addresses.setdefault(h.resident_id, []).append(
                        (h.postal_code, h.prefecture, h.city, h.town, _numbers(h.numbers))
                    )
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                # Not the 住民票コード: one unique string per resident, needed only when a
                # code is issued, and then read by itself (_juminhyo_code).
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
            after = snapshot.current_generation(conn)
        return contents, (before if before == after else None)

    def matcher(self) -> Matcher:
        """The in-memory matcher over the stored keys (loaded once per process, again after a refresh)."""
        with self._lock:
            if self._matcher is None:
                with _no_gc():
                    self._matcher = Matcher(self._load_index(), self.model)
            return self._matcher

    # -- matching --------------------------------------------------------------------------------
    def match(self, member: MemberRecord) -> MatchResult:
        """The decision for one member; nothing is recorded."""
        return self.matcher().match(member)

    def match_many(
        self,
        members: Sequence[MemberRecord],
        *,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[MatchResult]:
        """Decisions for many members on ``workers`` processes (2 by default for big lists).

        This process is one of the workers: it forks the others, which inherit the
        index and the members, and all of them take the next slice of members from
        a shared counter until none is left.
        """
        matcher = self.matcher()
        # The index is millions of long-lived objects and the results a million
        # more, none of them in reference cycles: the cyclic collector would walk
        # them over and over (half the time of a million-member run) and, in forked
        # workers, touch and so copy every page of the index. So it is frozen out
        # of the collector's sight and paused while matching.
        gc.freeze()
        try:
            with _no_gc():
                return self._match_many(matcher, members, workers, progress)
        finally:
            gc.unfreeze()

    def _match_many(
        self,
        matcher: Matcher,
        members: Sequence[MemberRecord],
        workers: int | None,
        progress: Callable[[int], None] | None,
    ) -> list[MatchResult]:
        global _WORK
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if len(members) >= _PARALLEL_FROM else 1
        if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
            workers = 1
        step = max(500, min(5000, len(members) // (workers * 16) + 1))
        ranges = [(i, min(i + step, len(members))) for i in range(0, len(members), step)]
        parts: list[list[MatchResult] | None] = [None] * len(ranges)
        done = 0
        if workers <= 1:
            for n, bounds in enumerate(ranges):
                parts[n] = [matcher.match(members[i]) for i in range(*bounds)]
                done += bounds[1] - bounds[0]
                if progress:
                    progress(done)
            return [r for part in parts if part is not None for r in part]
        context = multiprocessing.get_context("fork")
        counter = context.Value("i", 0)
        results: multiprocessing.queues.Queue[tuple[int, list[_Packed]]] = context.Queue()
        _WORK = (matcher, members)
        children = [
            context.Process(target=_worker, args=(counter, ranges, results), daemon=True) for _ in range(workers - 1)
        ]
        try:
            for child in children:
                child.start()

            def collect(block: bool) -> None:
                """Take the other workers' finished slices: all that are ready, or (blocking) the next one."""
                nonlocal done
                while True:
                    try:
                        n, packed = results.get(timeout=1.0) if block else results.get_nowait()
                    except queue.Empty:
                        if not block:
                            return
                        if not any(child.is_alive() for child in children) and results.empty():
                            raise RuntimeError("a matching worker stopped before finishing") from None
                        continue
                    bounds = ranges[n]
                    parts[n] = [_unpack(members[i], p) for i, p in zip(range(*bounds), packed, strict=True)]
                    done += bounds[1] - bounds[0]
                    if progress:
                        progress(done)
                    if block:
                        return

            while (n := _take(counter)) < len(ranges):
                bounds = ranges[n]
                parts[n] = [matcher.match(members[i]) for i in range(*bounds)]
                done += bounds[1] - bounds[0]
                if progress:
                    progress(done)
                collect(block=False)
            while any(p is None for p in parts):
                collect(block=True)
        finally:
            _WORK = None
            for child in children:
                child.join(timeout=5)
                if child.is_alive():
                    child.terminate()
        return [r for part in parts if part is not None for r in part]

    def link_members(
        self,
        agency_id: str,
        members: Sequence[MemberRecord],
        *,
        workers: int | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> list[Outcome]:
        """Match an agency's members and record the outcome: codes for links, cases for the rest."""
        self.hub.agency(agency_id)
        for member in members:
            # Japan Post's data decides what a postal code is (the file reader checked
            # this already; callers of the library may not have).
            postal.areas_for(member.postal_code)
        self.refresh_index()
        results = self.match_many(
            members, workers=workers, progress=(lambda n: progress("match", n)) if progress else None
        )
        return self.record(agency_id, results, progress=(lambda n: progress("record", n)) if progress else None)

    def _juminhyo_code(self, resident_id: int) -> str:
        with self.engine.connect() as conn:
            code = conn.execute(
                select(resident_keys.c.juminhyo_code).where(resident_keys.c.resident_id == resident_id)
            ).scalar()
        return str(code) if code else self.register.get(resident_id).juminhyo_code

    def code_for(self, agency_id: str, resident_id: int) -> str:
        """The agency's code for a resident, the J-LIS way: code → number → link id → hub."""
        number = self.numbering.number_for(self._juminhyo_code(resident_id))
        return self.hub.issue_code(agency_id, self.numbering.link_id_for(number))

    def record(
        self, agency_id: str, results: Sequence[MatchResult], *, progress: Callable[[int], None] | None = None
    ) -> list[Outcome]:
        """Record decisions: issue and store codes for links, open cases for the rest."""
        self.hub.agency(agency_id)
        member_ids = [r.member.member_id for r in results]
        if len(set(member_ids)) != len(member_ids):
            repeated = next(m for m, n in Counter(member_ids).items() if n > 1)
            raise InvalidInput(
                "linkage.member_repeated",
                f"加入者番号 {repeated} が重複しています。",
                f"Member id {repeated} appears more than once.",
                field="member_id",
            )
        existing: dict[str, tuple[int, str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(member_ids), 20_000):
                for a_id, m_id, rid, code in select_in(
                    conn,
                    links,
                    ("agency_id", "member_id", "resident_id", "agency_code"),
                    "member_id",
                    member_ids[i : i + 20_000],
                ):
                    if a_id == agency_id:
                        existing[str(m_id)] = (int(rid), str(code))
            has_open = (
                conn.execute(
                    select(cases.c.case_id).where(cases.c.agency_id == agency_id, cases.c.status == "open").limit(1)
                ).first()
                is not None
            )
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            batch_id = int(
                conn.execute(
                    insert(batches)
                    .values(agency_id=agency_id, started_at=now, members=len(results))
                    .returning(batches.c.batch_id)
                ).scalar_one()
            )
        outcomes: list[Outcome | None] = [None] * len(results)
        link_rows: list[dict[str, Any]] = []
        case_rows: list[tuple[int, dict[str, Any]]] = []
        for n, result in enumerate(results):
            member = result.member
            if result.decision is Decision.LINKED and result.resident_id is not None:
                resident_id = result.resident_id
                prior = existing.get(member.member_id)
                if prior is not None and prior[0] == resident_id:
                    outcomes[n] = Outcome.of(result, prior[1], None)
                    continue
                if prior is not None:
                    result = MatchResult(
                        member,
                        Decision.REVIEW,
                        None,
                        result.score,
                        (ReasonItem(Reason.CONFLICTING_FIELD, "existing_link"),),
                        result.candidates,
                        result.address_level,
                    )
                else:
                    code = self.code_for(agency_id, resident_id)
                    link_rows.append(
                        self._link_row(
                            agency_id,
                            member,
                            resident_id,
                            code,
                            result.score,
                            "auto",
                            result.address_level,
                            None,
                            batch_id,
                            now,
                        )
                    )
                    outcomes[n] = Outcome.of(result, code, None)
                    if progress and len(link_rows) % 1000 == 0:
                        progress(n)
                    continue
            case_rows.append(
                (
                    n,
                    {
                        "batch_id": batch_id,
                        "agency_id": agency_id,
                        "member_id": member.member_id,
                        "member": _member_json(member),
                        "reasons": result.reason_text,
                        "candidates": json.dumps(
                            [_candidate_json(c) for c in result.candidates[:10]], ensure_ascii=False
                        ),
                        "score": result.score,
                        "status": "open",
                        "created_at": now,
                    },
                )
            )
            outcomes[n] = Outcome.of(result, None, None)
        try:
            self._write_outcomes(agency_id, batch_id, member_ids, has_open, link_rows, case_rows, outcomes)
        except IntegrityError:
            raise Conflict(
                "linkage.concurrent",
                "同じ加入者が同時に照会されました。もう一度実行してください。",
                "The same members were submitted at the same time; run it again.",
                field="member_id",
            ) from None
        if progress:
            progress(len(results))
        return [o for o in outcomes if o is not None]

    def _write_outcomes(
        self,
        agency_id: str,
        batch_id: int,
        member_ids: list[str],
        has_open: bool,
        link_rows: list[dict[str, Any]],
        case_rows: list[tuple[int, dict[str, Any]]],
        outcomes: list[Outcome | None],
    ) -> None:
        with self.engine.begin() as conn:
            if has_open:
                for i in range(0, len(member_ids), 500):
                    conn.execute(
                        update(cases)
                        .where(
                            cases.c.agency_id == agency_id,
                            cases.c.status == "open",
                            cases.c.member_id.in_(member_ids[i : i + 500]),
                        )
                        .values(status="superseded")
                    )
            if link_rows:
                conn.execute(insert(links), link_rows)
            if case_rows:
                ids = (
                    conn.execute(
                        insert(cases).returning(cases.c.case_id, sort_by_parameter_order=True),
                        [r for _, r in case_rows],
                    )
                    .scalars()
                    .all()
                )
                for (n, _row), case_id in zip(case_rows, ids, strict=True):
                    outcome = outcomes[n]
                    assert outcome is not None
                    outcomes[n] = Outcome(
                        outcome.member_id, outcome.decision, None, None, outcome.score, outcome.reasons, int(case_id)
                    )
            done = [o for o in outcomes if o is not None]
            conn.execute(
                update(batches)
                .where(batches.c.batch_id == batch_id)
                .values(
                    linked=sum(o.decision is Decision.LINKED for o in done),
                    review=sum(o.decision is Decision.REVIEW for o in done),
                    no_match=sum(o.decision is Decision.NO_MATCH for o in done),
                )
            )

    @staticmethod
    def _link_row(
        agency_id: str,
        member: MemberRecord,
        resident_id: int,
        code: str,
        score: float | None,
        method: str,
        address_level: str | None,
        case_id: int | None,
        batch_id: int | None,
        now: datetime,
    ) -> dict[str, Any]:
        return {
            "agency_id": agency_id,
            "member_id": member.member_id,
            "resident_id": resident_id,
            "agency_code": code,
            "score": score,
            "method": method,
            "address_level": address_level,
            "member_name": member.name,
            "member_kana": member.kana,
            "member_sex": member.sex.value,
            "member_birth_date": member.birth_date,
            "member_postal_code": member.postal_code,
            "member_address": member.address,
            "case_id": case_id,
            "batch_id": batch_id,
            "created_at": now,
        }

    # -- review ----------------------------------------------------------------------------------
    def cases(
        self, *, status: str | None = "open", agency_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[CaseSummary]:
        """Review cases, oldest first (要確認一覧)."""
        query = select(cases).order_by(cases.c.case_id).limit(max(1, min(limit, 1000))).offset(max(0, offset))
        if status:
            query = query.where(cases.c.status == status)
        if agency_id:
            query = query.where(cases.c.agency_id == agency_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            CaseSummary(
                r.case_id,
                r.agency_id,
                r.member_id,
                json.loads(r.member)["name"],
                _reasons(r.reasons),
                len(json.loads(r.candidates)),
                r.score,
                r.status,
                r.created_at,
            )
            for r in rows
        ]

    def count_cases(self, status: str = "open") -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(cases).where(cases.c.status == status)).scalar_one()
            )

    def case(self, case_id: int) -> CaseView:
        """One case with each candidate's register items side by side (要確認案件の詳細)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
            made = conn.execute(
                select(decisions).where(decisions.c.case_id == case_id).order_by(decisions.c.decision_id)
            ).all()
        if row is None:
            raise NotFound(
                "linkage.case_not_found", f"案件 {case_id} はありません。", f"No case {case_id}.", field="case_id"
            )
        views: list[CandidateView] = []
        for c in json.loads(row.candidates):
            try:
                resident = self.register.get(int(c["resident_id"]))
            except NotFound:
                continue
            history = self.register.history_of(resident.resident_id)
            views.append(
                CandidateView(
                    resident.resident_id,
                    float(c["score"]),
                    dict(c["levels"]),
                    resident.name,
                    resident.kana,
                    resident.sex.value,
                    resident.birth_date,
                    resident.address.postal_code,
                    resident.address.one_line(),
                    resident.status.value,
                    tuple(
                        f"{h.details.get('from', '')}（{h.details.get('from_kana', '')}）"
                        for h in history
                        if h.kind is EventKind.NAME_CHANGE
                    ),
                    tuple(h.details.get("from", "") for h in history if h.kind is EventKind.MOVE_WITHIN),
                    bool(c.get("via_old_name")),
                    bool(c.get("via_old_address")),
                )
            )
        return CaseView(
            row.case_id,
            row.agency_id,
            _member_from(row.member),
            _reasons(row.reasons),
            tuple(views),
            row.score,
            row.status,
            row.created_at,
            tuple(DecisionRecord(d.case_id, d.outcome, d.resident_id, d.clerk, d.decided_at) for d in made),
        )

    def decide(
        self, case_id: int, *, clerk: str, resident_id: int | None = None, no_match: bool = False
    ) -> DecisionRecord:
        """A clerk's decision: link the member to a resident, or record that nobody matches.

        Who decided and when is recorded with the decision; a case is decided once.
        """
        clerk = clerk.strip()
        if not clerk or len(clerk) > 100:
            raise InvalidInput(
                "linkage.clerk",
                "担当者名を入力してください（100文字まで）。",
                "Give the clerk's name (100 characters at most).",
                field="clerk",
            )
        if (resident_id is None) == (not no_match):
            raise InvalidInput(
                "linkage.decision",
                "住民IDか「該当なし」のどちらか一方を指定してください。",
                "Give either a resident id or no-match, not both or neither.",
                field="resident_id",
            )
        view = self.case(case_id)
        if view.status != "open":
            raise Conflict(
                "linkage.case_closed",
                f"案件 {case_id} は処理済みです（{view.status}）。",
                f"Case {case_id} is already closed ({view.status}).",
                field="case_id",
            )
        code: str | None = None
        address_level: str | None = None
        if resident_id is not None:
            self.register.get(resident_id)
            for candidate in view.candidates:
                if candidate.resident_id == resident_id:
                    address_level = candidate.levels.get("address")
            code = self.code_for(view.agency_id, resident_id)
        now = datetime.now(UTC)
        outcome = "link" if resident_id is not None else "no_match"
        with self.engine.begin() as conn:
            closed = conn.execute(
                update(cases)
                .where(cases.c.case_id == case_id, cases.c.status == "open")
                .values(status="linked" if resident_id is not None else "no_match")
            ).rowcount
            if not closed:
                raise Conflict(
                    "linkage.case_closed",
                    f"案件 {case_id} は処理済みです。",
                    f"Case {case_id} is already closed.",
                    field="case_id",
                )
            conn.execute(
                insert(decisions).values(
                    case_id=case_id, outcome=outcome, resident_id=resident_id, clerk=clerk, decided_at=now
                )
            )
            if resident_id is not None and code is not None:
                conn.execute(
                    delete(links).where(links.c.agency_id == view.agency_id, links.c.member_id == view.member.member_id)
                )
                conn.execute(
                    insert(links).values(
                        **self._link_row(
                            view.agency_id,
                            view.member,
                            resident_id,
                            code,
                            None,
                            "clerk",
                            address_level,
                            case_id,
                            None,
                            now,
                        )
                    )
                )
        return DecisionRecord(case_id, outcome, resident_id, clerk, now, code)

    # -- links and the audit -----------------------------------------------------------------------
    def iter_links(self, *, agency_id: str | None = None, batch: int = 5000) -> Iterator[LinkRow]:
        """Every link made, in order (for the audit)."""
        last = 0
        while True:
            query = select(links).where(links.c.link_no > last).order_by(links.c.link_no).limit(batch)
            if agency_id:
                query = query.where(links.c.agency_id == agency_id)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for r in rows:
                yield LinkRow(
                    r.agency_id,
                    r.member_id,
                    int(r.resident_id),
                    r.agency_code,
                    MemberRecord(
                        r.member_id,
                        r.member_name,
                        r.member_kana,
                        Sex(r.member_sex),
                        r.member_birth_date,
                        r.member_postal_code,
                        r.member_address,
                    ),
                    r.address_level,
                    r.method,
                    "matching",
                )
            last = rows[-1].link_no

    def audit(self, *, accounts: AccountSource | None = None, held: Iterable[LinkRow] = ()) -> AuditReport:
        """The integrity audit (総点検) over every link made here, ``held`` links and ``accounts``."""
        self.refresh_index()
        matcher = self.matcher()
        return run_audit(self.iter_links(), matcher, held=held, accounts=accounts)

    def close(self) -> None:
        with self._lock:
            self._matcher = None
