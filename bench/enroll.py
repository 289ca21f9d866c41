"""Enrolment benchmark: register and number N residents (一斉付番), or move people in (転入).

    python bench/enroll.py --residents 1000000 [--db postgresql+psycopg://…]
    python bench/enroll.py --moves 20000 --residents 200000

``--moves M`` enrols N residents (not timed), moves M of them out of their
municipality whole households at a time (not timed), then moves them into
another in batches (``move_in_households``), each mover checked against their
住民票コード's last record and J-LIS: moves_per_s. A few hundred more move in one
by one at the counter (``register``) for comparison: counter_moves_per_s.

Prints one JSON object: residents, seconds, residents_per_s, peak_rss_mb, db, and
the rate over the first and the last tenth of the run (to show the cost per
resident does not grow with the register). Generating the synthetic people is
timed separately and not counted: the figure is the register's and J-LIS's work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from kojin.app import build
from kojin.core.config import Settings
from kojin.demo.population import generate_households
from kojin.numbering.process import NumberingProcess
from kojin.registry.service import HouseholdDraft
from machine import calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="SQLAlchemy URL; SQLite files in a temp dir when omitted")
    parser.add_argument("--batch", type=int, default=100_000, help="residents per transaction")
    parser.add_argument("--municipality", default="13105")
    parser.add_argument("--single-process", action="store_true", help="number in the register's process")
    parser.add_argument(
        "--pregenerate",
        action="store_true",
        help="make every synthetic person before the clock starts (J-LIS then cannot work while people are made; "
        "costs ~0.7 GB at 1 M)",
    )
    parser.add_argument("--moves", type=int, default=0, help="time M move-ins instead of enrolment")
    parser.add_argument("--move-batch", type=int, default=1000, help="movers per move-in transaction")
    parser.add_argument("--counter-moves", type=int, default=300, help="move-ins one by one, for comparison")
    args = parser.parse_args()
    if args.moves:
        from moves import run_moves

        print(json.dumps(run_moves(args)))
        return

    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-"))
    prefix = f"bench_{uuid.uuid4().hex[:6]}_" if args.db else ""
    settings = Settings(data_dir=workdir, database_url=args.db, schema_prefix=prefix)
    kojin = build(settings)
    today = date(2026, 11, 24)
    enrolled = 0
    enrol_seconds = 0.0
    generate_seconds = 0.0
    tenth = max(1, args.residents // 10)
    marks: list[tuple[int, float]] = [(0, 0.0)]
    households: Iterable[HouseholdDraft] = generate_households(args.municipality, args.residents, seed=1, today=today)
    pregenerate_seconds = 0.0
    if args.pregenerate:
        t0 = time.perf_counter()
        households = list(households)
        pregenerate_seconds = time.perf_counter() - t0
    households = iter(households)
    numbering_process = None if args.single_process else NumberingProcess(settings)
    load_start = os.getloadavg()
    cpu_enrol = 0.0
    generated = generated_cpu = 0.0

    def timed_batches() -> Iterator[list[HouseholdDraft]]:
        # Generating the synthetic people is the bench's work, not the
        # register's: the time spent here is taken out of the figure.
        nonlocal generated, generated_cpu
        people = 0
        while people < args.residents:
            t0, c0 = time.perf_counter(), time.process_time()
            batch: list[HouseholdDraft] = []
            size = 0
            for household in households:
                batch.append(household)
                size += len(household.members)
                if size >= args.batch:
                    break
            generated += time.perf_counter() - t0
            generated_cpu += time.process_time() - c0
            if not batch:
                return
            people += size
            yield batch

    def mark(total: int) -> None:
        marks.append((total, time.perf_counter() - started - generated))

    try:
        started = time.perf_counter()
        cpu0 = time.process_time()
        enrolled = kojin.register.enroll_batches(
            timed_batches(),
            municipality_code=args.municipality,
            today=today,
            validated=True,
            numbering_process=numbering_process,
            on_batch=mark,
        )
        enrol_seconds = time.perf_counter() - started - generated
        cpu_enrol = time.process_time() - cpu0 - generated_cpu
        generate_seconds = generated
    finally:
        if numbering_process:
            numbering_process.close()
        load_end = os.getloadavg()
        kojin.close()
        if args.db:
            build(settings, migrate=False).db.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    def rate_between(lo: int, hi: int) -> float:
        start = max((m for m in marks if m[0] <= lo), key=lambda m: m[0])
        end = min((m for m in marks if m[0] >= hi), key=lambda m: m[0])
        return (end[0] - start[0]) / (end[1] - start[1]) if end[1] > start[1] else 0.0

    print(
        json.dumps(
            {
                "residents": enrolled,
                "seconds": round(enrol_seconds, 2),
                "residents_per_s": round(enrolled / enrol_seconds),
                "first_tenth_per_s": round(rate_between(0, tenth)),
                "last_tenth_per_s": round(rate_between(enrolled - tenth, enrolled)),
                "generate_seconds": round(generate_seconds + pregenerate_seconds, 2),
                "pregenerated": args.pregenerate,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "numbering_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                # CPU per resident: the register's while enrolling, J-LIS's whole
                # child (it does nothing but number); robust to other load.
                "register_cpu_us_per_resident": round(cpu_enrol * 1e6 / max(1, enrolled), 1),
                "numbering_cpu_us_per_resident": round(_children_cpu() * 1e6 / max(1, enrolled), 1),
                "load_average": [round(x, 2) for x in (*load_start, *load_end)],
                "db": "postgresql" if args.db else "sqlite",
                "batch": args.batch,
                "numbering": "same process" if args.single_process else "own process",
                "python": platform.python_version(),
                "calibration": calibration(),
            }
        )
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
