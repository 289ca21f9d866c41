"""``bench/enroll.py --moves``: move-ins with the identity checks (転入), batched and at the counter.

Setting up is not timed: N residents enrolled in 文京区, then whole households
moved out (転出) until M + the counter's movers have left. Timed: the M movers
moving into 新宿区 in batches, each checked — J-LIS knows the code, nobody holds
it as a current resident, and the name, kana, sex and birth date agree with the
code's last record on the matcher's keys — and then the counter's movers one
by one. The share of the checks is timed apart: the last records read and
compared for every batch without writing anything, after the moves (a departed
record stays the code's last one), with the memoised comparison keys forgotten
before each pass.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.demo.population import generate_households
from kojin.linkage.normalise import fold_kanji, kana_loose, kana_strict, name_key
from kojin.registry import records
from kojin.registry.domain import Address, EventKind, PersonDetails
from kojin.registry.identity import refuse_other_person
from kojin.registry.service import HouseholdDraft, MovingHousehold
from machine import calibration, cpu_seconds

# One person moving: their details, relationship to the head, and their 住民票コード.
Mover = tuple[PersonDetails, str, str]

TODAY = date(2026, 11, 24)
FROM, TO = "13105", "13104"


def _arriving(details: PersonDetails, n: int) -> PersonDetails:
    """The person at a 新宿区 address of their own."""
    block = f"{n % 9 + 1}-{n // 9 % 20 + 1}-{n // 180 + 1}"
    return PersonDetails(
        details.name,
        details.kana,
        details.sex,
        details.birth_date,
        Address("1600022", "", "", "", block),
        details.nationality,
        details.residence_status,
        details.period_of_stay_until,
    )


def _leavers(kojin: Kojin, drafts: Sequence[HouseholdDraft], people: int) -> list[list[Mover]]:
    """Move whole households out until ``people`` have left; each as (details, relationship, code)."""
    left: list[list[Mover]] = []
    rid, count = 1, 0
    for draft in drafts:
        if count >= people:
            break
        members = []
        for offset, (details, relationship) in enumerate(draft.members):
            members.append((details, relationship, kojin.register.get(rid + offset).juminhyo_code))
        kojin.register.move_out(rid, destination="東京都新宿区", whole_household=True, today=TODAY)
        left.append(members)
        rid += len(draft.members)
        count += len(draft.members)
    return left


def _batches(households: list[list[Mover]], size: int) -> Iterator[list[MovingHousehold]]:
    batch: list[MovingHousehold] = []
    people = n = 0
    for members in households:
        arriving = []
        for details, relationship, code in members:
            arriving.append((_arriving(details, n), relationship, code))
            n += 1
        batch.append(MovingHousehold(arriving))
        people += len(arriving)
        if people >= size:
            yield batch
            batch, people = [], 0
    if batch:
        yield batch


def _check_only(kojin: Kojin, batches: list[list[MovingHousehold]]) -> tuple[float, float]:
    """Seconds and CPU seconds the identity checks alone take over every batch: codes looked up at
    J-LIS, last records read, items compared."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    with kojin.register.engine.connect() as conn:
        for batch in batches:
            movers = [m for household in batch for m in household.members]
            kojin.numbering.numbers_of([code for _d, _r, code in movers])
            last = records.last_departed_many(conn, [code for _d, _r, code in movers])
            for details, _r, code in movers:
                refuse_other_person(last.get(code), details)
    return time.perf_counter() - t0, cpu_seconds() - c0


def _cold_keys() -> None:
    """Forget the memoised comparison keys, so no pass finds the names another pass folded."""
    for memo in (name_key, fold_kanji, kana_loose, kana_strict):
        memo.cache_clear()


def _timed_moves(kojin: Kojin, batches: list[list[MovingHousehold]]) -> tuple[int, float, float]:
    moved, t0, c0 = 0, time.perf_counter(), cpu_seconds()
    for batch in batches:
        moved += len(kojin.register.move_in_households(batch, municipality_code=TO, today=TODAY))
    return moved, time.perf_counter() - t0, cpu_seconds() - c0


def _counter_moves(kojin: Kojin, households: list[list[Mover]], first: int) -> tuple[int, float]:
    """Each mover alone at the counter, as the head of a household of their own."""
    movers = [m for members in households for m in members]
    t0 = time.perf_counter()
    for n, (details, _relationship, code) in enumerate(movers):
        kojin.register.register(
            _arriving(details, first + n),
            municipality_code=TO,
            kind=EventKind.MOVE_IN,
            juminhyo_code=code,
            today=TODAY,
        )
    return len(movers), time.perf_counter() - t0


def run_moves(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-moves-"))
    prefix = f"bench_{uuid.uuid4().hex[:6]}_" if args.db else ""
    settings = Settings(data_dir=workdir, database_url=args.db, schema_prefix=prefix)
    kojin = build(settings)
    try:
        drafts = list(generate_households(FROM, args.residents, seed=1, today=TODAY))
        kojin.register.enroll_households(drafts, municipality_code=FROM, today=TODAY, validated=True)
        t0 = time.perf_counter()
        leavers = _leavers(kojin, drafts, args.moves + args.counter_moves)
        setup_move_out = time.perf_counter() - t0
        split, people = 0, 0
        while split < len(leavers) and people < args.moves:
            people += len(leavers[split])
            split += 1
        batched, counter = leavers[:split], leavers[split:]
        batches = list(_batches(batched, args.move_batch))
        name_key("髙橋　一郎")  # the kanji fold table is built once per process (~0.2 s), not per move
        load_start = os.getloadavg()
        _cold_keys()
        moved, seconds, cpu = _timed_moves(kojin, batches)
        _cold_keys()
        check_seconds, check_cpu = _check_only(kojin, batches)
        counter_moved, counter_seconds = _counter_moves(kojin, counter, moved)
        load_end = os.getloadavg()
    finally:
        kojin.close()
        if args.db:
            build(settings, migrate=False).db.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "mode": "moves",
        "residents": args.residents,
        "moves": moved,
        "move_batch": args.move_batch,
        "seconds": round(seconds, 2),
        "moves_per_s": round(moved / seconds),
        "cpu_us_per_move": round(cpu * 1e6 / max(1, moved), 1),
        "check_us_per_move": round(check_seconds * 1e6 / max(1, moved), 1),
        "check_cpu_us_per_move": round(check_cpu * 1e6 / max(1, moved), 1),
        "counter_moves": counter_moved,
        "counter_moves_per_s": round(counter_moved / counter_seconds) if counter_moved else None,
        "setup_move_out_seconds": round(setup_move_out, 1),
        "load_average": [round(x, 2) for x in (*load_start, *load_end)],
        "db": "postgresql" if args.db else "sqlite",
        "python": platform.python_version(),
        "calibration": calibration(),
    }
