"""Probe of the durable exchange log (やりとり履歴ログ) on its SQL store.

    python bench/log_probe.py [--threads 16] [--appends 48000] [--leaves 1000000] [--db postgresql+psycopg://…]

Prints one JSON object with, for SQLite (WAL, synchronous=FULL, in a temp dir)
and for PostgreSQL when ``--db`` is given:

* ``durable_appends_per_s``: ``--threads`` threads each calling
  ``ExchangeLog.append`` in a loop; every call returns only after its leaf is
  committed, so this is the group-commit rate. ``mean_group`` is leaves per
  transaction, ``single_append_ms`` the latency of one lone append.
* ``inclusion_proof_ms_*`` at ``--leaves`` leaves: the store is filled with
  ``append_many`` batches, the log is closed, and a *fresh* ``ExchangeLog``
  rebuilds its cache from the database (``reload_s``) before the proofs are
  timed, so the figures are those of a restarted process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

try:
    from kojin.audit.merkle import verify_consistency, verify_inclusion
except ModuleNotFoundError:  # a checkout that was never pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from kojin.audit.merkle import verify_consistency, verify_inclusion

from sqlalchemy import create_engine, text

from kojin.audit.service import ExchangeLog
from kojin.core.config import Settings
from kojin.core.db import Database, register_party


def _record(thread: int, i: int) -> bytes:
    # About the size of the hub's exchange records: ids, parties, a digest.
    return (
        b'{"v":1,"exchange":"%08d-%04d","from":"municipality:13105","to":"pension:jpn",'
        b'"item":"income-2025","purpose":"mynumber-act-19-8","digest":"%064x"}' % (i, thread, i * 7919 + thread)
    )


def _group_commit(db: Database, threads: int, appends: int) -> dict[str, Any]:
    with ExchangeLog(db.engine("audit")) as log:
        t0 = time.perf_counter()
        for i in range(200):
            log.append(_record(999, i))
        single_ms = (time.perf_counter() - t0) * 1000 / 200
        base_commits = log.commit_count

        per_thread = appends // threads
        start = threading.Barrier(threads + 1)

        def work(t: int) -> None:
            start.wait()
            for i in range(per_thread):
                log.append(_record(t, i))

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        start.wait()
        t0 = time.perf_counter()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - t0
        commits = log.commit_count - base_commits
        total = per_thread * threads
        assert log.size() == total + 200
    return {
        "threads": threads,
        "appends": total,
        "seconds": round(seconds, 3),
        "durable_appends_per_s": round(total / seconds),
        "mean_group": round(total / commits, 1),
        "single_append_ms": round(single_ms, 3),
    }


def _million(db: Database, leaves: int, proofs: int) -> dict[str, Any]:
    with ExchangeLog(db.engine("audit")) as log:
        start = have = log.size()
        t0 = time.perf_counter()
        while have < leaves:
            chunk = min(50_000, leaves - have)
            log.append_many([_record(0, have + i) for i in range(chunk)])
            have += chunk
        fill_s = time.perf_counter() - t0
        log.sign_tree_head()

    t0 = time.perf_counter()
    log = ExchangeLog(db.engine("audit"))
    reload_s = time.perf_counter() - t0
    try:
        size = log.size()
        sth = log.latest_tree_head()
        assert sth is not None and sth.tree_size == size
        rng = random.Random(9162)
        indexes = [rng.randrange(size) for _ in range(proofs)]
        timings = []
        paths = []
        for index in indexes:
            t1 = time.perf_counter()
            paths.append(log.inclusion_proof(index, size))
            timings.append(time.perf_counter() - t1)
        for index, path in list(zip(indexes, paths, strict=True))[:50]:
            assert verify_inclusion(log.leaf_hash(index), index, size, path, sth.root_hash)
        olds = [rng.randrange(1, size) for _ in range(proofs)]
        t1 = time.perf_counter()
        consistency = [log.consistency_proof(old, size) for old in olds]
        consistency_ms = (time.perf_counter() - t1) * 1000 / proofs
        for old, proof in list(zip(olds, consistency, strict=True))[:20]:
            assert verify_consistency(old, size, log.root(old), sth.root_hash, proof)
        t1 = time.perf_counter()
        for index in indexes[:200]:
            log.proof_bundle(index)
        bundle_ms = (time.perf_counter() - t1) * 1000 / 200
    finally:
        log.close()
    timings.sort()
    return {
        "leaves": size,
        "fill_appends_per_s": round((have - start) / fill_s) if have > start else None,
        "reload_s": round(reload_s, 2),
        "inclusion_proof_ms_mean": round(sum(timings) * 1000 / proofs, 4),
        "inclusion_proof_ms_p99": round(timings[int(proofs * 0.99) - 1] * 1000, 4),
        "consistency_proof_ms_mean": round(consistency_ms, 4),
        "proof_bundle_ms_mean": round(bundle_ms, 3),
    }


def _probe(url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="kojin-log-probe-"))
    prefix = f"logprobe_{uuid.uuid4().hex[:6]}_" if url else ""
    settings = Settings(data_dir=workdir, database_url=url, schema_prefix=prefix)
    db = Database(settings)
    try:
        db.migrate("audit")
        result = {"group_commit": _group_commit(db, args.threads, args.appends)}
        if args.leaves:
            result["proofs"] = _million(db, args.leaves, args.proofs)
        return result
    finally:
        db.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
        if url:
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema_for("audit")}" CASCADE'))
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--appends", type=int, default=48_000, help="durable appends in the group-commit run")
    parser.add_argument("--leaves", type=int, default=1_000_000, help="tree size for the proof timings (0: skip)")
    parser.add_argument("--proofs", type=int, default=1_000)
    parser.add_argument("--db", default=None, help="also probe this PostgreSQL URL")
    args = parser.parse_args()

    register_party("audit", "kojin.audit")
    os.environ.pop("KOJIN_AUDIT_PASSPHRASE", None)
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        # Other work on the machine shows up directly in the group-commit rate.
        "loadavg_at_start": round(os.getloadavg()[0], 2),
        "sqlite": _probe(None, args),
    }
    if args.db:
        report["postgresql"] = _probe(args.db, args)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
