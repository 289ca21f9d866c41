"""Benchmark of the person's exchange history (やりとり履歴) on a large exchange log.

    python bench/history.py [--leaves 1000000] [--people 5] [--per-person 40] [--db postgresql+psycopg://…]

Fills the exchange log with ``--leaves`` leaves written straight through the
log in ``append_many`` batches of 10,000 (the hub's exchange path is
``bench/exchange.py``'s business): ``--people`` real people (numbers, the
hub's internal ids, 文京区's codes) have ``--per-person`` leaves each, spread
over the log, with their commitments and index rows exactly as the hub writes
them; every other leaf is about one of 100,000 strangers (a random
commitment and a random tag), so the person index holds a row per leaf as it
would in a real log. Then the system is closed and built again (a restart:
the tree is re-read, no history cache survives) and the portal's history is
timed for the people in turn:

* ``entries_ms`` — :meth:`ExchangeHistory.entries`, the list on the page;
* ``page_ms`` — what the page does: the list plus the server's verification
  of each entry shown (``verify_all``, up to 100 proof bundles checked);
* ``first_after_restart_ms`` — the very first ``entries`` call after the
  restart (before the index, a scan of the whole log: 4.1 s at 36,600 leaves).

Prints one JSON object, with the machine's calibration (``machine.py``).
SQLite in a temporary directory, or PostgreSQL at ``--db`` (schemas of a
fresh prefix, dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import create_engine, text

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.demo.agencies import ensure_demo_agencies
from kojin.hub.domain import Outcome, leaf_bytes, subject_commitment, subject_tag
from kojin.numbering.domain import make_juminhyo_code
from kojin.registry.domain import Resident
from machine import calibration

_BATCH = 10_000
_STRANGERS = 100_000
_TASK = "児童手当の支給に関する事務"
_ITEM = "地方税関係情報"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _people(kojin: Kojin, count: int) -> list[tuple[Resident, bytes]]:
    """``count`` people known to the hub, as the portal sees them, with their subject keys."""
    ensure_demo_agencies(kojin)
    codes = [make_juminhyo_code(f"{i + 1:010d}") for i in range(count)]
    numbers = kojin.numbering.assign_many(codes)
    kojin.agencies.obtain_codes_unverified("13105", numbers)
    out = []
    for code in codes:
        key = kojin.hub.subject_key_for(kojin.numbering.link_id_for_code(code))
        # The history reads only the 住民票コード of the person it is given.
        out.append((cast(Resident, SimpleNamespace(juminhyo_code=code)), key))
    return out


def _fill(kojin: Kojin, keys: list[bytes], leaves: int, per_person: int) -> dict[int, bytes]:
    """Write the log; which leaf is whose among the people followed."""
    rng = random.Random(7)
    theirs = {i: keys[n % len(keys)] for n, i in enumerate(rng.sample(range(leaves), per_person * len(keys)))}
    strangers = [secrets.token_bytes(32) for _ in range(_STRANGERS)]
    now = int(time.time())
    for first in range(0, leaves, _BATCH):
        batch: list[bytes] = []
        tags: list[tuple[bytes, str, str] | None] = []
        for index in range(first, min(leaves, first + _BATCH)):
            request_id = f"bench-{index:09d}"
            key = theirs.get(index)
            if key is None:
                subject, tag = secrets.token_hex(32), rng.choice(strangers)
            else:
                subject, tag = subject_commitment(key, "13105", request_id), subject_tag(key)
            batch.append(
                leaf_bytes(
                    time=now,
                    requester="13105",
                    provider="13104",
                    task=_TASK,
                    item=_ITEM,
                    request_id=request_id,
                    outcome=Outcome.ANSWERED,
                    reason=None,
                    subject=subject,
                    provided_at=now * 1000,
                )
            )
            tags.append((tag, "13105", "13104"))
        kojin.exchange_log.append_many(batch, tags)
    return theirs


def _time_history(kojin: Kojin, people: list[tuple[Resident, bytes]], samples: int) -> dict[str, Any]:
    history = kojin.portal.history
    assert history is not None
    t0 = time.perf_counter()
    found = history.entries(people[0][0])
    first = time.perf_counter() - t0
    entries: list[float] = []
    page: list[float] = []
    counts = set()
    for n in range(samples):
        person = people[n % len(people)][0]
        t0 = time.perf_counter()
        shown = history.entries(person)
        t1 = time.perf_counter()
        history.verify_all(person, [e.leaf_index for e in shown[:100]])
        t2 = time.perf_counter()
        entries.append(t1 - t0)
        page.append(t2 - t0)
        counts.add(len(shown))
    return {
        "first_after_restart_ms": round(first * 1000, 2),
        "entries_found_per_person": sorted(counts),
        "first_person_entries": len(found),
        "entries_ms": {"p50": round(_pct(entries, 50) * 1000, 2), "p99": round(_pct(entries, 99) * 1000, 2)},
        "page_ms": {"p50": round(_pct(page, 50) * 1000, 2), "p99": round(_pct(page, 99) * 1000, 2)},
        "samples": samples,
    }


def run(settings: Settings, leaves: int, people_count: int, per_person: int, samples: int) -> dict[str, Any]:
    kojin = build(settings)
    try:
        people = _people(kojin, people_count)
        t0 = time.perf_counter()
        theirs = _fill(kojin, [key for _, key in people], leaves, per_person)
        fill = time.perf_counter() - t0
    finally:
        kojin.close()
    t0 = time.perf_counter()
    kojin = build(settings)  # a restart
    try:
        kojin.exchange_log.size()
        restart = time.perf_counter() - t0
        figures = _time_history(kojin, people, samples)
        figures["index_rows"] = kojin.exchange_log.tag_count()
        if figures["entries_found_per_person"] != [per_person]:
            figures["error"] = "a person's history is not exactly their leaves"
    finally:
        kojin.close()
    return {
        "leaves": leaves,
        "people_followed": people_count,
        "leaves_per_person": per_person,
        "fill_s": round(fill, 1),
        "fill_leaves_per_s": round(leaves / fill),
        "restart_s": round(restart, 2),
        "followed_leaves": len(theirs),
        **figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=5)
    parser.add_argument("--per-person", type=int, default=40)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "calibration": calibration(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="kojin-bench-history-") as tmp:
        prefix = f"bh{uuid.uuid4().hex[:6]}_"
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.db, schema_prefix=prefix)
        try:
            report["sqlite" if args.db is None else "postgresql"] = run(
                settings, args.leaves, args.people, args.per_person, args.samples
            )
        finally:
            if args.db is not None:
                _drop_schemas(args.db, prefix)
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _drop_schemas(url: str, prefix: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            names = [
                str(n)
                for (n,) in conn.execute(
                    text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
                    {"p": prefix + "%"},
                )
            ]
            for name in names:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
