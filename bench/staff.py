"""Staff-door benchmark: a counter clerk's single-person reads over HTTP, with and without the access log.

    python bench/staff.py [--residents 3000] [--seconds 8] [--rounds 2] [--connections 32]
                          [--server-cpus last|any|0,1] [--db URL] [--breakdown]

Prints JSON. uvicorn serves the whole app (one process, as ``kojin up``) in
another process, plus two bench-only routes; a lean asyncio HTTP/1.1
keep-alive client in this process keeps ``--connections`` reads in flight,
each for a random resident of municipality 13105, and reports reads/s and
p50/p95/p99 latency for:

* ``door_and_log`` — ``GET /registry/residents/{id}?purpose=住民票の写しの交付``
  with a clerk's bearer token: the door (JWT check, revoked-token look-up,
  roster look-up), the register read, the access-log row (group commit) and
  its leaf in the exchange log, both durable before the answer;
* ``door_only`` — ``GET /bench/door-only/residents/{id}``: the same door
  (:class:`~kojin.staff.guard.StaffDoors`, counter clerks), the same read and
  answer, no access log;
* ``no_door`` — ``GET /bench/no-door/residents/{id}``: the read and answer alone.

The three alternate, ``--rounds`` times each, so that the neighbours' load on
the shared machine falls on all of them alike. ``log_cost`` is the share of
door-only throughput the access log takes away (target ≤ 30 %). With
``--breakdown`` the parts of one read are also timed in this process
(JWT check, revoked-token query, roster query, register read, access-log
write with and without the leaf).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from rich.console import Console
from rich.progress import Progress

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.staff.domain import Organisation, Role
from machine import calibration, cpu_seconds, cpus
from serving import free_port, stop_server

CITY = "13105"
PURPOSE = "住民票の写しの交付"
CLERK = "bench-clerk.13105"
MODES = ("door_and_log", "door_only", "no_door")
TARGET_READS_PER_S = 2000
TARGET_P99_MS = 50.0
TARGET_LOG_COST = 0.30


# -- the server (``--serve``: this file run by the bench in another process) --------------------


def bench_app(kojin: Kojin) -> FastAPI:
    """The whole app, plus the two bench-only routes beside the register's real one."""
    from fastapi import Depends

    from kojin.entrypoints.http.app import create_app
    from kojin.registry.domain import resident_record
    from kojin.staff import reasons as staff_reasons
    from kojin.staff.domain import OrganisationKind, StaffPrincipal
    from kojin.staff.guard import StaffDoors

    app = create_app(kojin)
    clerk = Depends(StaffDoors(kojin.staff, session=kojin.staff.check_session).role(Role.COUNTER_CLERK))

    # Sync routes, as the register's: FastAPI runs them (and the door) in its thread pool.
    @app.get("/bench/door-only/residents/{resident_id}", include_in_schema=False)
    def door_only(resident_id: int, purpose: str | None = None, principal: StaffPrincipal = clerk) -> dict[str, Any]:
        resident = kojin.register.get(resident_id)
        organisation = principal.organisation
        if organisation.kind is not OrganisationKind.MUNICIPALITY or organisation.id != resident.municipality_code:
            raise staff_reasons.NOT_IN_SCOPE.error()
        return resident_record(resident)

    @app.get("/bench/no-door/residents/{resident_id}", include_in_schema=False)
    def no_door(resident_id: int, purpose: str | None = None) -> dict[str, Any]:
        return resident_record(kojin.register.get(resident_id))

    # FastAPI tries the routes in order, and each try costs: routes added last
    # would pay for a hundred misses the register's route never sees. Moved to
    # just before the register's routes, they are found after as many misses.
    routes = app.router.routes
    ours = [r for r in routes if getattr(r, "path", "").startswith("/bench/")]
    for route in ours:
        routes.remove(route)
    at = next(i for i, r in enumerate(routes) if getattr(getattr(r, "original_router", r), "prefix", "") == "/registry")
    routes[at:at] = ours
    getattr(app.router, "_mark_routes_changed", lambda: None)()
    return app


def serve(port: int) -> None:
    import uvicorn

    kojin = build(migrate=False)  # the stores from KOJIN_DATA_DIR / KOJIN_DATABASE_URL, as the bench made them
    app = bench_app(kojin)
    profile = os.environ.get("KOJIN_BENCH_PROFILE")
    if profile:
        # yappi (not a kojin dependency: ``pip install yappi``) sees every thread: the loop, the pool, the writers.
        yappi: Any = importlib.import_module("yappi")
        yappi.set_clock_type("cpu")

        @app.post("/bench/profile/{action}", include_in_schema=False)
        def profiling(action: str) -> dict[str, str]:
            if action == "start":
                yappi.clear_stats()
                yappi.start(profile_threads=True)
            else:
                yappi.stop()
                write_profile(yappi.get_func_stats(), Path(profile))
            return {"profile": action}

    try:
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            access_log=False,
        )
    finally:
        kojin.close()


def write_profile(stats: Any, path: Path, top: int = 120) -> None:
    """The functions that took the most CPU, inclusive and exclusive of their callees."""
    rows = sorted(stats, key=lambda s: s.ttot, reverse=True)[:top]
    by_own = sorted(stats, key=lambda s: s.tsub, reverse=True)[:top]
    with path.open("w") as out:
        for title, chosen in (("by total (with callees)", rows), ("by own time", by_own)):
            out.write(f"# {title}: ncall, ttot s, tsub s, function\n")
            for s in chosen:
                out.write(f"{s.ncall:>9} {s.ttot:8.3f} {s.tsub:8.3f}  {s.module}:{s.lineno} {s.name}\n")


# -- preparing ----------------------------------------------------------------------------------


def prepare(kojin: Kojin, residents: int, progress: Progress) -> tuple[list[int], str]:
    """``residents`` demo residents of 13105 and a counter clerk's bearer token; the residents' ids."""
    from kojin.demo.municipality import seed_municipality

    task = progress.add_task("seeding residents", total=residents)
    seed_municipality(kojin, residents, CITY, seed=1, on_progress=lambda n: progress.update(task, completed=n))
    progress.update(task, completed=residents)
    ids = [r.resident_id for r in kojin.register.iter_residents(municipality_code=CITY)]
    if kojin.staff.roster.find(CLERK) is None:
        kojin.staff.register(CLERK, "試験 窓口", Organisation.parse(f"municipality:{CITY}"), Role.COUNTER_CLERK)
    return ids, kojin.staff.issue_token(CLERK).access_token


def start_server(env: dict[str, str], cpus: set[int] | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()

    def pin() -> None:
        # The server's Python work is bound to one core by the GIL anyway; on
        # one CPU the hand-offs between its event loop, its thread pool and
        # its writer threads do not wake the other CPU each time.
        if cpus:
            os.sched_setaffinity(0, cpus)

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.2)


def _post(port: int, path: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST")
    with urllib.request.urlopen(request, timeout=300) as answer:
        answer.read()


# -- the load -----------------------------------------------------------------------------------


def paths(mode: str, ids: list[int]) -> list[bytes]:
    """The request targets of ``mode``, one per resident."""
    purpose = urllib.parse.quote(PURPOSE)
    prefix = {"door_and_log": "/registry", "door_only": "/bench/door-only", "no_door": "/bench/no-door"}[mode]
    return [f"{prefix}/residents/{rid}?purpose={purpose}".encode() for rid in ids]


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One request on a keep-alive connection; the status and the body (Content-Length framed)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    fields = (line.partition(b":") for line in lines[1:])
    length = next(int(value) for name, _, value in fields if name.lower() == b"content-length")
    return status, await reader.readexactly(length)


def drive(
    port: int, targets: list[bytes], token: str | None, connections: int, seconds: float, server_pid: int
) -> dict[str, Any]:
    """``connections`` lean keep-alive clients reading random residents for ``seconds`` (after a short warm-up)."""
    auth = b"Authorization: Bearer %s\r\n" % token.encode() if token else b""
    host = b"Host: 127.0.0.1:%d\r\n" % port

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        stop = False

        async def worker(n: int) -> None:
            rng = random.Random(n)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                while not stop:
                    request = b"GET %s HTTP/1.1\r\n%s%s\r\n" % (rng.choice(targets), host, auth)
                    t0 = time.perf_counter()
                    status, body = await _get(reader, writer, request)
                    latencies.append(time.perf_counter() - t0)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status != 200 and len(errors) < 5:
                        errors.append(f"HTTP {status}: {body[:200].decode(errors='replace')}")
            except Exception as exc:
                errors.append(type(exc).__name__ + ": " + str(exc))
            finally:
                writer.close()

        tasks = [asyncio.create_task(worker(n)) for n in range(connections)]
        await asyncio.sleep(min(1.0, seconds / 4))  # warm the connections, caches and the log's tree
        latencies.clear()
        statuses.clear()
        began, cpu0, server0 = time.perf_counter(), cpu_seconds(), cpu_seconds(server_pid)
        await asyncio.sleep(seconds)
        elapsed, done, counts = time.perf_counter() - began, list(latencies), dict(statuses)
        cpu, server = cpu_seconds() - cpu0, cpu_seconds(server_pid) - server0
        stop = True
        await asyncio.gather(*tasks)
        return {
            "latencies": done,
            "seconds": elapsed,
            "cpu_client": cpu,
            "cpu_server": server,
            "statuses": counts,
            "errors": errors,
        }

    result: dict[str, Any] = _run_loop(run())
    return result


def _run_loop(main: Any) -> Any:
    """Run on uvloop when it is installed (uvicorn[standard] brings it; the server runs on it too)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def summary(runs: list[dict[str, Any]], connections: int) -> dict[str, Any]:
    """One mode's rounds together: reads/s over all of them, latency percentiles of every read."""
    every = sorted(x for run in runs for x in run["latencies"])
    elapsed = sum(run["seconds"] for run in runs)
    n = max(1, len(every))
    statuses: dict[str, int] = {}
    for run in runs:
        for status, count in run["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    return {
        "reads": len(every),
        "seconds": round(elapsed, 2),
        "reads_per_s": round(len(every) / elapsed, 1),
        "reads_per_s_each_round": [round(len(run["latencies"]) / run["seconds"], 1) for run in runs],
        "p50_ms": round(_pct(every, 50) * 1000, 2),
        "p95_ms": round(_pct(every, 95) * 1000, 2),
        "p99_ms": round(_pct(every, 99) * 1000, 2),
        "cpu_ms_per_read_server": round(sum(run["cpu_server"] for run in runs) * 1000 / n, 3),
        "cpu_ms_per_read_client": round(sum(run["cpu_client"] for run in runs) * 1000 / n, 3),
        "connections": connections,
        "statuses": statuses,
        "errors": [e for run in runs for e in run["errors"]][:5],
    }


# -- the parts of one read, in this process -----------------------------------------------------


def _per_call_us(call: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    return round((time.perf_counter() - t0) / n * 1e6, 1)


def breakdown(kojin: Kojin, ids: list[int], token: str, n: int = 2000, threads: int = 32) -> dict[str, Any]:
    """Each part of a logged read timed alone, one caller (µs per call), and the log write under ``threads``."""
    from sqlalchemy import select

    from kojin.staff.store import revoked_tokens, staff_members

    staff = kojin.staff
    signer = staff.signer
    principal = staff.check_token(token)
    engine = staff.engine
    rng = random.Random(7)

    def revoked_query() -> object:
        with engine.connect() as conn:
            query = select(revoked_tokens.c.token_id).where(revoked_tokens.c.token_id == principal.token_id)
            return conn.execute(query).first()

    def roster_query() -> object:
        with engine.connect() as conn:
            return conn.execute(select(staff_members).where(staff_members.c.staff_id == CLERK)).first()

    parts: dict[str, Any] = {
        "jwt_decode_and_claims_us": _per_call_us(lambda: signer.check(token, revoked=lambda _: False), n),
        "revoked_token_query_us": _per_call_us(revoked_query, n),
        "roster_query_us": _per_call_us(roster_query, n),
        "check_token_us": _per_call_us(lambda: staff.check_token(token), n),
        "register_get_us": _per_call_us(lambda: kojin.register.get(rng.choice(ids)), n),
    }
    kojin.exchange_log.size()  # open the log (reads the tree) before the clock
    parts["record_access_one_caller_us"] = _per_call_us(
        lambda: staff.record_access(principal, str(rng.choice(ids)), PURPOSE, "read"), n // 4
    )
    leaves = staff._leaves
    staff.log_leaves_to(lambda: None)
    try:
        parts["record_access_no_leaf_one_caller_us"] = _per_call_us(
            lambda: staff.record_access(principal, str(rng.choice(ids)), PURPOSE, "read"), n // 4
        )
    finally:
        staff.log_leaves_to(leaves)
    parts[f"record_access_{threads}_threads_per_s"] = _threaded_rate(
        lambda: staff.record_access(principal, str(rng.choice(ids)), PURPOSE, "read"), threads, 2.0
    )
    return parts


def _threaded_rate(call: Callable[[], object], threads: int, seconds: float) -> float:
    counts = [0] * threads
    stop = threading.Event()

    def loop(t: int) -> None:
        while not stop.is_set():
            call()
            counts[t] += 1

    pool = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in pool:
        thread.join()
    return round(sum(counts) / (time.perf_counter() - began), 1)


# -- the report ---------------------------------------------------------------------------------


def verdict(figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if "door_and_log" not in figures or "door_only" not in figures:
        return {}
    logged, bare = figures["door_and_log"], figures["door_only"]
    cost = 1 - logged["reads_per_s"] / bare["reads_per_s"] if bare["reads_per_s"] else float("nan")
    out: dict[str, Any] = {
        "log_cost": round(cost, 3),
        "log_cost_server_cpu_ms": round(logged["cpu_ms_per_read_server"] - bare["cpu_ms_per_read_server"], 3),
        "targets": {
            "reads_per_s": TARGET_READS_PER_S,
            "p99_ms": TARGET_P99_MS,
            "log_cost": TARGET_LOG_COST,
        },
        "met": {
            "reads_per_s": logged["reads_per_s"] >= TARGET_READS_PER_S,
            "p99_ms": logged["p99_ms"] <= TARGET_P99_MS,
            "log_cost": cost <= TARGET_LOG_COST,
        },
    }
    if "no_door" in figures and figures["no_door"]["reads_per_s"]:
        out["door_cost"] = round(1 - bare["reads_per_s"] / figures["no_door"]["reads_per_s"], 3)
    return out


def measure(args: argparse.Namespace, workdir: Path, progress: Progress) -> dict[str, Any]:
    prefix = "bench_staff_" if args.db else ""
    settings = Settings(data_dir=workdir, database_url=args.db, schema_prefix=prefix)
    kojin = build(settings)
    try:
        t0 = time.perf_counter()
        ids, token = prepare(kojin, args.residents, progress)
        report: dict[str, Any] = {"residents": len(ids), "prepare_seconds": round(time.perf_counter() - t0, 1)}
        if args.breakdown:
            report["breakdown_in_process"] = breakdown(kojin, ids, token)
    finally:
        kojin.close()
    env = {**os.environ, "KOJIN_DATA_DIR": str(workdir), "KOJIN_SCHEMA_PREFIX": prefix, "KOJIN_LANG": "ja"}
    env.pop("KOJIN_DATABASE_URL", None)
    if args.db:
        env["KOJIN_DATABASE_URL"] = args.db
    modes = [m for m in MODES if m in (args.only or MODES)]
    if args.profile:
        env["KOJIN_BENCH_PROFILE"] = str(Path(args.profile).resolve())
    pinned = cpus(args.server_cpus)
    server, port = start_server(env, pinned)
    try:
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        task = progress.add_task("measuring", total=args.rounds * len(modes))
        for _ in range(args.rounds):
            for mode in modes:
                progress.update(task, description=f"measuring {mode}")
                auth = token if mode != "no_door" else None
                if args.profile:
                    _post(port, "/bench/profile/start")
                runs[mode].append(drive(port, paths(mode, ids), auth, args.connections, args.seconds, server.pid))
                if args.profile:
                    _post(port, "/bench/profile/stop")
                progress.advance(task)
    finally:
        stop_server(server)
    figures = {mode: summary(rounds, args.connections) for mode, rounds in runs.items()}
    return {
        **report,
        **figures,
        **verdict(figures),
        "rounds": args.rounds,
        "server_cpus": sorted(pinned) if pinned else "any",
        "db": "postgresql" if args.db else "sqlite",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=3000, help="demo residents of 13105")
    parser.add_argument("--seconds", type=float, default=8.0, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=2, help="times each mode runs, alternating")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections (reads in flight)")
    parser.add_argument(
        "--server-cpus", default="last", help="CPUs the server may run on: 'last' (default), 'any', or e.g. 0,1"
    )
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (PostgreSQL); SQLite files in a temp dir if omitted")
    parser.add_argument("--only", choices=MODES, action="append", help="run only this mode (repeatable)")
    parser.add_argument("--profile", default=None, help="profile the server with yappi (CPU clock) into this file")
    parser.add_argument("--breakdown", action="store_true", help="also time the parts of one read in this process")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return

    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine skews every figure; say how much there was.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "calibration": calibration(),
        },
    }
    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-staff-"))
    try:
        with Progress(console=Console(stderr=True), transient=True) as progress:  # stdout is the JSON alone
            report.update(measure(args, workdir, progress))
    finally:
        if args.db:
            settings = Settings(data_dir=workdir, database_url=args.db, schema_prefix="bench_staff_")
            build(settings, migrate=False).db.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
