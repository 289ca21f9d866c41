"""Benchmark of information linkage (情報連携): exchanges and the exchange log.

Prints one JSON object with:

* ``in_process`` — exchanges/s and latency percentiles with concurrent agency
  clients calling the hub in this process on one event loop
  (``AgencyClient.request_async``; walk 4 end to end: the requester signs, the
  hub verifies, checks the table and translates the code, the provider's
  intermediate server seals its copy, the leaf is durable in the log, the
  provider's and the requester's §23 records are durable and the hub's is
  committed behind them, the requester opens and checks the answer);
* ``in_process_batch`` — the same exchanges sent as batches (一括照会,
  ``AgencyClient.request_many_async``): ``--batch`` requests of one requester
  under one signature, each still checked, answered, sealed, logged as its own
  leaf and recorded by all three; exchanges/s counts requests;
* ``in_process_threads`` — the same through the blocking API
  (``AgencyClient.request``) from client threads;
* ``http`` — the hub served by uvicorn in another process (the providers'
  intermediate servers hosted with it, as J-LIS hosts municipalities'),
  pinned to one CPU by default (``--server-cpus``), and a lean asyncio
  HTTP/1.1 keep-alive client in this one that signs every request and opens
  and checks every answer (the requester's own §23 record, its own store's
  work, is left out here: the in-process figures include it);
* ``http_batch`` — the same server, with ``--batch-connections`` clients
  posting signed batches of ``--batch`` to ``/hub/exchange/batch`` and
  opening and checking every answer in them; exchanges/s counts requests;
* ``log`` — durable appends/s to the exchange log from concurrent threads
  (``append``) and from coroutines on one loop (``append_then``), and
  inclusion-proof time at ``--leaves`` leaves beside pymerkle on the same
  leaves (pymerkle is a GPL test oracle: imported here only).

Everything runs on SQLite stores in a temporary directory. Run from a checkout:
``python bench/exchange.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from kojin.agency.client import AgencyClient, HttpHub
from kojin.agency.domain import Ask, CopyEntry
from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.demo.agencies import ensure_demo_agencies
from kojin.numbering.domain import make_juminhyo_code
from machine import calibration, cpu_seconds, cpus
from serving import free_port

T = TypeVar("T")

# The parts of the report, in the order they run (``--only`` picks some).
RUNS = ("in_process", "in_process_batch", "in_process_threads", "http", "http_batch", "log")

# (requester, provider, task, item): rows 1, 1 and 4 of the permitted table.
WORK = (
    ("13105", "13104", "児童手当の支給に関する事務", "地方税関係情報"),
    ("13104", "13105", "児童手当の支給に関する事務", "地方税関係情報"),
    ("13105", "jps", "生活保護の決定及び実施に関する事務", "年金給付関係情報"),
)


def prepare(data: Path, people: int) -> None:
    """Demo agencies, ``people`` persons with codes at three agencies, and their copies."""
    kojin = build(Settings(data_dir=data))
    try:
        ensure_demo_agencies(kojin)
        codes = [make_juminhyo_code(f"{i + 1:010d}") for i in range(people)]
        numbers = kojin.numbering.assign_many(codes)
        for agency_id, item in (("13105", "地方税関係情報"), ("13104", "地方税関係情報"), ("jps", "年金給付関係情報")):
            own = kojin.agencies.obtain_codes_unverified(agency_id, numbers)
            kojin.agencies.get(agency_id).update_copies(
                CopyEntry(c, item, {"amount": 1_000_000 + n, "year": 2025}) for n, c in enumerate(own)
            )
    finally:
        kojin.close()


def _requester_codes(kojin: Kojin) -> dict[str, list[str]]:
    from sqlalchemy import select

    from kojin.agency.store import people

    out = {}
    for agency_id in {w[0] for w in WORK}:
        with kojin.agencies.get(agency_id).engine.connect() as conn:
            out[agency_id] = [str(c) for (c,) in conn.execute(select(people.c.code))]
    return out


def _summary(
    latencies: list[float],
    elapsed: float,
    cpu: float,
    server_cpu: float | None,
    errors: list[str],
) -> dict[str, Any]:
    every = sorted(latencies)
    n = max(1, len(every))
    figures: dict[str, Any] = {"cpu_ms_per_exchange_this_process": round(cpu * 1000 / n, 3)}
    if server_cpu is not None:
        figures["cpu_ms_per_exchange_server"] = round(server_cpu * 1000 / n, 3)
    return {
        **figures,
        "exchanges": len(every),
        "seconds": round(elapsed, 2),
        "exchanges_per_s": round(len(every) / elapsed, 1),
        "p50_ms": round(_pct(every, 50) * 1000, 2),
        "p99_ms": round(_pct(every, 99) * 1000, 2),
        "errors": errors[:5],
    }


def drive(
    clients: dict[str, AgencyClient],
    codes: dict[str, list[str]],
    threads: int,
    seconds: float,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Run ``threads`` blocking clients for ``seconds``; exchanges/s, latency percentiles in ms, CPU per exchange."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    start_line = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(t: int) -> None:
        rng = random.Random(t)
        mine = latencies[t]
        start_line.wait()
        while not stop.is_set():
            requester, provider, task, item = WORK[rng.randrange(len(WORK))]
            code = rng.choice(codes[requester])
            t0 = time.perf_counter()
            try:
                clients[requester].request(provider, task, item, code=code)
            except Exception as exc:
                errors.append(type(exc).__name__ + ":" + str(getattr(exc, "code", "")))
                return
            mine.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    start_line.wait()
    began = time.perf_counter()
    cpu0, server0 = cpu_seconds(), cpu_seconds(server_pid) if server_pid else 0.0
    time.sleep(seconds)
    stop.set()
    for p in pool:
        p.join()
    elapsed = time.perf_counter() - began
    cpu, server = cpu_seconds() - cpu0, (cpu_seconds(server_pid) - server0) if server_pid else None
    return {"threads": threads, **_summary([x for lat in latencies for x in lat], elapsed, cpu, server, errors)}


def drive_async(
    clients: dict[str, AgencyClient],
    codes: dict[str, list[str]],
    concurrency: int,
    seconds: float,
) -> dict[str, Any]:
    """``concurrency`` clients on one event loop for ``seconds``, awaiting ``request_async``."""

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors: list[str] = []
        stop = False

        async def worker(t: int) -> None:
            rng = random.Random(t)
            while not stop:
                requester, provider, task, item = WORK[rng.randrange(len(WORK))]
                code = rng.choice(codes[requester])
                t0 = time.perf_counter()
                try:
                    await clients[requester].request_async(provider, task, item, code=code)
                except Exception as exc:
                    errors.append(type(exc).__name__ + ":" + str(getattr(exc, "code", "")))
                    return
                latencies.append(time.perf_counter() - t0)

        tasks = [asyncio.create_task(worker(t)) for t in range(concurrency)]
        await asyncio.sleep(min(2.0, seconds))  # warm caches and the log's tree
        latencies.clear()
        began, cpu0 = time.perf_counter(), cpu_seconds()
        await asyncio.sleep(seconds)
        elapsed, cpu, done = time.perf_counter() - began, cpu_seconds() - cpu0, list(latencies)
        stop = True
        await asyncio.gather(*tasks)
        return {"concurrency": concurrency, **_summary(done, elapsed, cpu, None, errors)}

    return _run_loop(run())


# A batch sender: (requester, asks) → a result or a refusal for each ask.
BatchSender = Callable[[str, list[Ask]], Awaitable[list[Any]]]


def drive_batches(
    open_sender: Callable[[], AbstractAsyncContextManager[BatchSender]],
    codes: dict[str, list[str]],
    workers: int,
    size: int,
    seconds: float,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """``workers`` clients on one event loop sending batches of ``size`` (一括照会) for ``seconds``.

    Exchanges/s counts requests (each its own exchange: checked, answered,
    logged and recorded); latency is that of a whole batch. Each worker
    holds its own sender (an HTTP connection, say) while it runs.
    """

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        exchanges = [0]
        errors: list[str] = []
        stop = False

        async def worker(t: int) -> None:
            rng = random.Random(t)
            try:
                async with open_sender() as send:
                    while not stop:
                        requester = WORK[rng.randrange(len(WORK))][0]
                        mine = [w for w in WORK if w[0] == requester]
                        asks = [
                            Ask(p, task, item, code=rng.choice(codes[requester]))
                            for _, p, task, item in (rng.choice(mine) for _ in range(size))
                        ]
                        t0 = time.perf_counter()
                        results = await send(requester, asks)
                        failed = [r for r in results if isinstance(r, Exception)]
                        if failed:
                            raise failed[0]
                        latencies.append(time.perf_counter() - t0)
                        exchanges[0] += len(results)
            except Exception as exc:
                errors.append(type(exc).__name__ + ":" + str(getattr(exc, "code", exc)))

        tasks = [asyncio.create_task(worker(t)) for t in range(workers)]
        await asyncio.sleep(min(2.0, seconds))  # warm caches and the log's tree
        latencies.clear()
        exchanges[0] = 0
        began, cpu0 = time.perf_counter(), cpu_seconds()
        server0 = cpu_seconds(server_pid) if server_pid else 0.0
        await asyncio.sleep(seconds)
        elapsed, cpu, done, count = time.perf_counter() - began, cpu_seconds() - cpu0, sorted(latencies), exchanges[0]
        server = cpu_seconds(server_pid) - server0 if server_pid else None
        stop = True
        await asyncio.gather(*tasks)
        n = max(1, count)
        figures: dict[str, Any] = {"cpu_ms_per_exchange_this_process": round(cpu * 1000 / n, 3)}
        if server is not None:
            figures["cpu_ms_per_exchange_server"] = round(server * 1000 / n, 3)
        return {
            "batch": size,
            "batches": len(done),
            "exchanges": count,
            "seconds": round(elapsed, 2),
            "exchanges_per_s": round(count / elapsed, 1),
            **figures,
            "batch_p50_ms": round(_pct(done, 50) * 1000, 2),
            "batch_p99_ms": round(_pct(done, 99) * 1000, 2),
            "errors": errors[:5],
        }

    return _run_loop(run())


def _run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (uvicorn[standard] brings it, and serves the hub on it)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    result: T = uvloop.run(main)
    return result


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def bench_in_process(data: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        codes = _requester_codes(kojin)
        clients = {a: kojin.agencies.client(a) for a in codes}
        return drive_async(clients, codes, concurrency, seconds)
    finally:
        kojin.close()


def bench_in_process_batches(data: Path, concurrency: int, size: int, seconds: float) -> dict[str, Any]:
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        codes = _requester_codes(kojin)
        clients = {a: kojin.agencies.client(a) for a in codes}

        @asynccontextmanager
        async def in_process() -> AsyncIterator[BatchSender]:
            yield lambda requester, asks: clients[requester].request_many_async(asks)

        return {"concurrency": concurrency, **drive_batches(in_process, codes, concurrency, size, seconds)}
    finally:
        kojin.close()


def bench_in_process_threads(data: Path, threads: int, seconds: float) -> dict[str, Any]:
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        codes = _requester_codes(kojin)
        clients = {a: kojin.agencies.client(a) for a in codes}
        drive(clients, codes, threads, min(2.0, seconds))  # warm caches and the log's tree
        return drive(clients, codes, threads, seconds)
    finally:
        kojin.close()


class _LeanHttp:
    """One keep-alive HTTP/1.1 connection to the hub: just enough client for ``POST /hub/exchange(/batch)``.

    httpx spends about 0.3 ms of CPU per request, which on two shared cores
    would be measured as the hub's slowness; this writes the request and
    reads the answer (status, Content-Length, body) and nothing else.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> None:
        self._reader, self._writer = reader, writer
        self._head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n".encode()

    @classmethod
    async def open(cls, host: str, port: int, path: str = "/hub/exchange") -> _LeanHttp:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}", path)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        self._writer.write(self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        fields = (line.partition(b":") for line in lines[1:])
        length = next(int(value) for name, _, value in fields if name.lower() == b"content-length")
        return status, await self._reader.readexactly(length)

    def close(self) -> None:
        self._writer.close()


def drive_http(
    clients: dict[str, AgencyClient],
    codes: dict[str, list[str]],
    host: str,
    port: int,
    connections: int,
    seconds: float,
    server_pid: int,
) -> dict[str, Any]:
    """``connections`` lean keep-alive clients, each signing, posting, opening and checking answers."""

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors: list[str] = []
        stop = False

        async def worker(t: int) -> None:
            rng = random.Random(t)
            http = await _LeanHttp.open(host, port)
            try:
                while not stop:
                    requester, provider, task, item = WORK[rng.randrange(len(WORK))]
                    client = clients[requester]
                    t0 = time.perf_counter()
                    request = client.new_request(provider, task, item, code=rng.choice(codes[requester]))
                    status, body = await http.post(json.dumps(client.sign(request)).encode())
                    answer = json.loads(body)
                    if status != 200:
                        errors.append(f"HTTP {status}: {answer.get('error', {}).get('code')}")
                        return
                    client.open_answer(request, answer)  # the requester's checks and opening
                    latencies.append(time.perf_counter() - t0)
            except Exception as exc:
                errors.append(type(exc).__name__ + ":" + str(getattr(exc, "code", exc)))
            finally:
                http.close()

        tasks = [asyncio.create_task(worker(t)) for t in range(connections)]
        await asyncio.sleep(min(2.0, seconds))  # warm caches and the log's tree
        latencies.clear()
        began, cpu0, server0 = time.perf_counter(), cpu_seconds(), cpu_seconds(server_pid)
        await asyncio.sleep(seconds)
        elapsed, done = time.perf_counter() - began, list(latencies)
        cpu, server = cpu_seconds() - cpu0, cpu_seconds(server_pid) - server0
        stop = True
        await asyncio.gather(*tasks)
        return {"connections": connections, **_summary(done, elapsed, cpu, server, errors)}

    return _run_loop(run())


def http_batch_sender(
    clients: dict[str, AgencyClient],
    host: str,
    port: int,
) -> Callable[[], AbstractAsyncContextManager[BatchSender]]:
    """Senders posting signed batches to ``/hub/exchange/batch``, one keep-alive connection each.

    The requester signs its batch, and opens and checks every answer in it
    (its own §23 records are left out, as in ``http``).
    """

    @asynccontextmanager
    async def open_sender() -> AsyncIterator[BatchSender]:
        http = await _LeanHttp.open(host, port, "/hub/exchange/batch")

        async def send(requester: str, asks: list[Ask]) -> list[Any]:
            client = clients[requester]
            requests = [client.new_request(a.provider, a.task, a.item, code=a.code) for a in asks]
            status, body = await http.post(json.dumps(client.sign_batch(requests)).encode())
            answer = json.loads(body)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {answer.get('error', {}).get('code')}")
            results, _ = client.open_batch(requests, answer)
            return list(results)

        try:
            yield send
        finally:
            http.close()

    return open_sender


def bench_http(
    data: Path,
    seconds: float,
    server_cpus: set[int] | None,
    *,
    connections: int,
    batch: int | None = None,
) -> dict[str, Any]:
    """The hub served by uvicorn in another process; single requests, or batches of ``batch``."""
    port = free_port()
    env = {**os.environ, "KOJIN_DATA_DIR": str(data)}
    env.pop("KOJIN_DATABASE_URL", None)

    def pin() -> None:
        # The hub's Python work is bound to one core by the GIL anyway; kept
        # on one CPU, the hand-offs between its event loop and its writer
        # threads stay on that CPU instead of each waking the other (which
        # on a virtual machine costs more than the work handed over).
        if server_cpus:
            os.sched_setaffinity(0, server_cpus)

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "kojin.entrypoints.http.hub:app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin,
    )
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        codes = _requester_codes(kojin)
        # The requesters' keys are theirs (this process); the providers' box
        # keys come from the hub's registry over HTTP, once, as in use.
        with httpx.Client(timeout=30) as registry:
            clients = {a: kojin.agencies.client(a, HttpHub(f"http://127.0.0.1:{port}", client=registry)) for a in codes}
            for client in clients.values():
                for _, provider, _, _ in WORK:
                    client.provider_box_key(provider)
        if batch is None:
            result = drive_http(clients, codes, "127.0.0.1", port, connections, seconds, server.pid)
        else:
            sender = http_batch_sender(clients, "127.0.0.1", port)
            figures = drive_batches(sender, codes, connections, batch, seconds, server.pid)
            result = {"connections": connections, **figures}
        return {**result, "server_cpus": sorted(server_cpus) if server_cpus else "any"}
    finally:
        kojin.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def bench_log(data: Path, threads: int, seconds: float, leaves: int, proofs: int) -> dict[str, Any]:
    from kojin.audit.service import ExchangeLog
    from kojin.core.db import Database

    settings = Settings(data_dir=data / "log")
    db = Database(settings)
    db.migrate("audit")
    log = ExchangeLog(db.engine("audit"))
    out: dict[str, Any] = {}
    try:
        # Durable appends from concurrent callers, each waiting for its own commit.
        counts = [0] * threads
        stop = threading.Event()

        def appender(t: int) -> None:
            i = 0
            while not stop.is_set():
                log.append(b'{"kojin":"exchange-leaf/1","t":%d,"i":%d}' % (t, i))
                i += 1
            counts[t] = i

        pool = [threading.Thread(target=appender, args=(t,)) for t in range(threads)]
        began = time.perf_counter()
        for p in pool:
            p.start()
        time.sleep(seconds)
        stop.set()
        for p in pool:
            p.join()
        elapsed = time.perf_counter() - began
        out["durable_appends_per_s"] = round(sum(counts) / elapsed, 1)
        out["append_threads"] = threads
        out.update(_loop_appends(log, seconds))

        # Fill to ``leaves`` in large batches (one commit each), then time proofs.
        have = log.size()
        batch = 20_000
        t0 = time.perf_counter()
        while have < leaves:
            n = min(batch, leaves - have)
            log.append_many([b"leaf-%d" % i for i in range(have, have + n)])
            have += n
        out["fill_seconds"] = round(time.perf_counter() - t0, 1)
        size = log.size()
        out["leaves"] = size
        rng = random.Random(9162)
        indices = [rng.randrange(size) for _ in range(proofs)]
        t0 = time.perf_counter()
        for i in indices:
            log.inclusion_proof(i, size)
        out["kojin_inclusion_proof_ms"] = round((time.perf_counter() - t0) * 1000 / proofs, 4)
        out["pymerkle"] = _pymerkle(log, db.engine("audit"), size, indices)
    finally:
        log.close()
        db.dispose()
    return out


def _loop_appends(log: Any, seconds: float, concurrency: int = 256) -> dict[str, Any]:
    """Durable appends awaited by coroutines on one event loop (``append_then``), each told only once durable."""
    from kojin.core.aio import resolver

    async def run() -> dict[str, Any]:
        wake = resolver()
        loop = asyncio.get_running_loop()
        count = 0
        stop = False

        async def appender(t: int) -> None:
            nonlocal count
            i = 0
            while not stop:
                future: asyncio.Future[Any] = loop.create_future()
                log.append_then(
                    b'{"kojin":"exchange-leaf/1","loop":%d,"i":%d}' % (t, i),
                    lambda receipt, error, f=future: wake.settle(f, receipt, error),
                )
                await future
                count += 1
                i += 1

        tasks = [asyncio.create_task(appender(t)) for t in range(concurrency)]
        await asyncio.sleep(0.5)
        began, first, cpu0 = time.perf_counter(), count, cpu_seconds()
        await asyncio.sleep(seconds)
        elapsed, done, cpu = time.perf_counter() - began, count - first, cpu_seconds() - cpu0
        stop = True
        await asyncio.gather(*tasks)
        return {
            "durable_appends_per_s_event_loop": round(done / elapsed, 1),
            "event_loop_appenders": concurrency,
            "cpu_us_per_append_event_loop": round(cpu * 1e6 / max(1, done), 1),
        }

    return _run_loop(run())


def _pymerkle(log: Any, engine: Any, size: int, indices: list[int]) -> dict[str, Any]:
    """pymerkle (GPL; a test oracle, imported only here) on the very same leaf bytes."""
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        return {"skipped": "pymerkle not installed"}
    from sqlalchemy import select

    from kojin.audit.store import leaves

    tree = InmemoryTree(algorithm="sha256")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(select(leaves.c.leaf_data).order_by(leaves.c.leaf_index).limit(size))
        batch: list[bytes] = []
        for (data,) in rows:
            batch.append(bytes(data))
            if len(batch) == 100_000:
                tree.append_entries(batch)
                batch = []
        if batch:
            tree.append_entries(batch)
    fill = time.perf_counter() - t0
    t0 = time.perf_counter()
    proofs = [tree.prove_inclusion(i + 1, size) for i in indices]  # pymerkle counts leaves from 1
    per_proof = (time.perf_counter() - t0) * 1000 / len(indices)
    return {
        "fill_seconds": round(fill, 1),
        "inclusion_proof_ms": round(per_proof, 4),
        "same_root": tree.get_root(size) == log.root(size),
        "same_paths": _same_paths(log, size, indices[:20], proofs[:20]),
    }


def _same_paths(log: Any, size: int, indices: list[int], proofs: list[Any]) -> bool:
    for i, proof in zip(indices, proofs, strict=True):
        path = [bytes.fromhex(h) if isinstance(h, str) else bytes(h) for h in proof.serialize()["path"]]
        ours = log.inclusion_proof(i, size)
        # pymerkle's path starts with the leaf's own hash; RFC 9162's does not.
        if path[1:] != ours and path != ours:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run (seconds, not minutes)")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--concurrency", type=int, default=64, help="agency clients on the event loop (in_process)")
    parser.add_argument(
        "--batch", type=int, default=100, help="requests per batch (in_process_batch, http_batch; 一括照会)"
    )
    parser.add_argument("--batch-concurrency", type=int, default=8, help="batches in flight (in_process_batch)")
    parser.add_argument("--threads", type=int, default=16, help="blocking agency client threads (in_process_threads)")
    parser.add_argument("--connections", type=int, default=24, help="keep-alive HTTP connections (http)")
    parser.add_argument(
        "--batch-connections", type=int, default=4, help="keep-alive HTTP connections sending batches (http_batch)"
    )
    parser.add_argument(
        "--server-cpus",
        default="last",
        help="CPUs the HTTP hub process may run on: 'last' (default: the last CPU), 'any', or a list like 1 or 0,1",
    )
    parser.add_argument("--log-threads", type=int, default=64, help="concurrent appenders to the log")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--leaves", type=int, default=None)
    parser.add_argument(
        "--only", choices=RUNS, action="append", help="run only this part (repeatable); default: every part"
    )
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    people = args.people or (200 if args.quick else 2000)
    leaves = args.leaves or (50_000 if args.quick else 1_000_000)
    only = set(args.only or RUNS)

    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine skews every figure; say how much there was.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "calibration": calibration(),
        },
        "people": people,
    }
    with tempfile.TemporaryDirectory(prefix="kojin-bench-") as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        prepare(data, people)
        report["prepare_seconds"] = round(time.perf_counter() - t0, 1)
        runs: dict[str, Callable[[], dict[str, Any]]] = {
            "in_process": lambda: bench_in_process(data, args.concurrency, seconds),
            "in_process_batch": lambda: bench_in_process_batches(data, args.batch_concurrency, args.batch, seconds),
            "in_process_threads": lambda: bench_in_process_threads(data, args.threads, seconds),
            "http": lambda: bench_http(data, seconds, cpus(args.server_cpus), connections=args.connections),
            "http_batch": lambda: bench_http(
                data, seconds, cpus(args.server_cpus), connections=args.batch_connections, batch=args.batch
            ),
            "log": lambda: bench_log(Path(tmp), args.log_threads, seconds, leaves, 1000),
        }
        assert set(runs) == set(RUNS)
        for name, run in runs.items():
            if name in only:
                report[name] = run()
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
