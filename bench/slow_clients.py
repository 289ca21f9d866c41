"""Slow clients beside normal ones: does the server still answer?

    python bench/slow_clients.py [--slow 1100] [--seconds 40] [--server kojin|plain]

Starts a server on 127.0.0.1 in another process, then, from this one, holds
``--slow`` slowloris connections open for ``--seconds``: each sends a request
line and then one header line every few seconds, never finishing its head, and
opens a new connection when the server closes it (so the attack stays at full
strength). Beside them a normal client sends ``GET /healthz`` and
``GET /audit/key`` over fresh connections, a few at a time, and records how
long each answer took (connect included).

``--server kojin`` is ``kojin up`` itself: uvicorn with the request-head deadline
(:mod:`kojin.entrypoints.http.protocol`) and the limits in
``kojin.entrypoints.cli.serve.SERVER_LIMITS``. ``--server plain`` is uvicorn with
its defaults, for comparison. Loopback only; the attack is bounded in
connections and time.

Prints JSON: the normal requests' p50/p99/max latency and failures, and how the
slow connections fared (how many the server closed, the most open at once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machine import calibration
from serving import free_port, stop_server

HOST = "127.0.0.1"
NORMAL_PATHS = ("/healthz", "/audit/key")


def start_server(kind: str, data: Path, port: int, nofile: tuple[int, int] | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KOJIN_DATA_DIR": str(data), "KOJIN_LANG": "ja"}
    env.pop("KOJIN_DATABASE_URL", None)
    if kind == "kojin":
        command = [sys.executable, "-m", "kojin", "up", "--residents", "20", "--host", HOST, "--port", str(port)]
    else:
        # The same app, initialised the same way, under uvicorn's defaults.
        subprocess.run([sys.executable, "-m", "kojin", "init"], env=env, check=True, capture_output=True)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "kojin.entrypoints.http.factory:app",
            "--factory",
            "--host",
            HOST,
            "--port",
            str(port),
            "--http",
            "h11",
            "--log-level",
            "warning",
        ]

    def limit_files() -> None:
        # Many machines start services with 1,024 open files: a slow client holds one each.
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=limit_files,
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.3)


@dataclass
class SlowTally:
    opened: int = 0
    closed_by_server: int = 0
    refused: int = 0
    open_now: int = 0
    most_open: int = 0


@dataclass
class NormalTally:
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)


async def slow_connection(port: int, stop: float, gap: float, tally: SlowTally) -> None:
    """One slowloris: a request head that never ends; reconnect when the server hangs up."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            tally.refused += 1
            await asyncio.sleep(gap)
            continue
        tally.opened += 1
        tally.open_now += 1
        tally.most_open = max(tally.most_open, tally.open_now)
        try:
            writer.write(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode())
            n = 0
            while time.monotonic() < stop:
                await asyncio.sleep(gap)
                writer.write(b"X-Slow-%d: x\r\n" % n)
                n += 1
                await writer.drain()
                if reader.at_eof():
                    break
                # A closed socket shows as EOF on read; don't wait for data that never comes.
                try:
                    if await asyncio.wait_for(reader.read(1), timeout=0.01) == b"":
                        break
                except TimeoutError:
                    pass
            else:
                continue
            tally.closed_by_server += 1
        except (ConnectionError, OSError):
            tally.closed_by_server += 1
        finally:
            tally.open_now -= 1
            writer.close()


async def normal_request(port: int, path: str) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status = (await reader.readline()).split(b" ", 2)
        if len(status) < 2 or status[1] != b"200":
            raise ConnectionError(f"status {status[1:2]!r}")
        await reader.read()
    finally:
        writer.close()


async def normal_client(port: int, stop: float, tally: NormalTally, timeout: float) -> None:
    i = 0
    while time.monotonic() < stop:
        path = NORMAL_PATHS[i % len(NORMAL_PATHS)]
        i += 1
        t = time.perf_counter()
        try:
            await asyncio.wait_for(normal_request(port, path), timeout=timeout)
            tally.latencies.append(time.perf_counter() - t)
        except (TimeoutError, ConnectionError, OSError) as exc:
            # Latencies are of answered requests; a failure (refused, reset, 503, 10 s timeout) is counted apart.
            name = type(exc).__name__
            tally.failures[name] = tally.failures.get(name, 0) + 1
        await asyncio.sleep(0.05)


async def attack(port: int, slow: int, seconds: float, normal: int, gap: float) -> tuple[SlowTally, NormalTally]:
    slow_tally, normal_tally = SlowTally(), NormalTally()
    stop = time.monotonic() + seconds
    slow_tasks = []
    for _ in range(slow):
        slow_tasks.append(asyncio.create_task(slow_connection(port, stop, gap, slow_tally)))
        # Open them over about a second, as a real attacker's script does.
        await asyncio.sleep(1.0 / slow)
    normal_tasks = [asyncio.create_task(normal_client(port, stop, normal_tally, timeout=10.0)) for _ in range(normal)]
    await asyncio.gather(*normal_tasks, *slow_tasks)
    return slow_tally, normal_tally


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=1100, help="slowloris connections held at once")
    parser.add_argument("--seconds", type=float, default=40.0, help="how long the attack lasts")
    parser.add_argument("--normal", type=int, default=4, help="normal clients, each one request at a time")
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between a slow client's header lines")
    parser.add_argument("--server", choices=("kojin", "plain"), default="kojin")
    parser.add_argument("--server-nofile", type=int, default=1024, help="the server's soft open-file limit")
    parser.add_argument(
        "--server-nofile-hard", type=int, default=0, help="the server's hard open-file limit (0: as inherited)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-slow-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        hard = args.server_nofile_hard or resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = (min(args.server_nofile, hard), hard)
        server = start_server(args.server, workdir / "data", port, nofile)
        figures = calibration()
        slow, normal = asyncio.run(attack(port, args.slow, args.seconds, args.normal, args.gap))
        result: dict[str, Any] = {
            "server": args.server,
            "slow_connections": args.slow,
            "seconds": args.seconds,
            "server_nofile": list(nofile),
            "normal_answered": len(normal.latencies),
            "normal_failures": normal.failures,
            "normal_p50_ms": round(_pct(normal.latencies, 0.50) * 1000, 1),
            "normal_p99_ms": round(_pct(normal.latencies, 0.99) * 1000, 1),
            "normal_max_ms": round(max(normal.latencies, default=float("nan")) * 1000, 1),
            "slow_opened": slow.opened,
            "slow_closed_by_server": slow.closed_by_server,
            "slow_refused": slow.refused,
            "slow_most_open": slow.most_open,
            "calibration": figures,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
        print(json.dumps(result))
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
