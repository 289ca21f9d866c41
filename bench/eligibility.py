"""Online-eligibility benchmark: card-authenticated checks per second over HTTP.

    python bench/eligibility.py [--checks 20000] [--connections 16] [--workers 2] [--cards 50]

Prints JSON: eligibility checks per second and p50/p99 latency, each check a
``POST /eligibility/check`` to uvicorn serving the whole app on 127.0.0.1 —
the card's signature, the chain to the J-LIS root, OCSP (cached until its
nextUpdate), single use of the challenge recorded durably, serial linkage,
the insurers' codes through J-LIS and the hub, the qualification copy, the
registration, and the visit recorded durably (group commit).

Every answer is signed by a real (emulated) RSA-2048 card over APDUs — VERIFY,
then COMPUTE DIGITAL SIGNATURE — before the clock starts: that is the card's
time, not the service's. The load generator is a lean asyncio HTTP/1.1 client
on keep-alive connections in this process; the request count is bounded and
the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

from kojin.app import build
from kojin.card.reader import CardReader
from kojin.card.transport import InProcessTransport
from kojin.core.config import Settings
from kojin.demo.insurance import ensure_insurers
from kojin.eligibility.insurer.service import MemberDraft
from kojin.registry.domain import Address, PersonDetails, Sex
from serving import free_port, stop_server

TODAY = date(2026, 11, 24)
PIN = "1234"
INSURERS = ("kyokai", "kenpo_kojin", "13105", "tokyo_kouki")


def prepare(data: Path, cards: int, requests: int) -> tuple[str, list[bytes]]:
    """People with cards and insurance, a clinic, and ``requests`` pre-signed check bodies."""
    kojin = build(Settings(data_dir=data))
    try:
        ensure_insurers(kojin)
        residents = []
        for i in range(cards):
            details = PersonDetails(
                f"確認　{i}",
                "カクニン　タロウ",
                Sex.MALE if i % 2 else Sex.FEMALE,
                date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                Address("1130033", "", "", "", f"2-{i + 1}"),
            )
            residents.append(kojin.register.register(details, municipality_code="13105", today=TODAY).resident)
        for n, insurer_id in enumerate(INSURERS):
            group = residents[n :: len(INSURERS)]
            kojin.insurers.get(insurer_id).enrol(
                [
                    MemberDraft(
                        juminhyo_code=r.juminhyo_code,
                        name=r.name,
                        kana=r.kana,
                        sex=r.sex.value,
                        birth_date=r.birth_date,
                        address=r.address.one_line(),
                        postal_code=r.address.postal_code,
                        qualified_on=date(2020, 4, 1),
                        ratio=30,
                        symbol="1201",
                        card_registered=True,
                    )
                    for r in group
                ],
                today=TODAY,
            )
        issued = [
            kojin.cards.issue(
                r.resident_id, auth_pin=PIN, signature_password="ABC123", algorithm="rsa2048", today=TODAY
            )
            for r in residents
        ]
        key = kojin.eligibility.register_clinic("1310512345", "ベンチマーク診療所")
        # Unbound from their files so that signing does not rewrite a card file per answer.
        readers = []
        for card in issued:
            emulated = kojin.cards.load(card.card_id)
            emulated.bind_persistence(None)
            readers.append(CardReader(InProcessTransport(emulated)))
        certs = []
        for reader in readers:
            with reader:
                certs.append(base64.b64encode(reader.read_auth_certificate()).decode())
        bodies = []
        for n in range(requests):
            reader = readers[n % len(readers)]
            # A long-lived challenge: signing them all takes longer than the default two minutes.
            challenge = kojin.auth.challenge("eligibility", ttl_s=3600).value
            with reader:
                signature = reader.sign_with_auth_key(PIN, challenge.encode())
            bodies.append(
                json.dumps(
                    {
                        "challenge": challenge,
                        "certificate": certs[n % len(readers)],
                        "signature": base64.b64encode(signature).decode(),
                    }
                ).encode()
            )
        return key, bodies
    finally:
        kojin.close()


def request_bytes(port: int, key: str, body: bytes) -> bytes:
    head = (
        f"POST /eligibility/check HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Clinic-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def drive(port: int, requests: list[bytes], connections: int) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for raw in queue:
                t0 = time.perf_counter()
                status, _body = await _one(reader, writer, raw)
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, statuses, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=20_000, help="checks measured (bounded)")
    parser.add_argument("--warmup", type=int, default=1_000, help="checks before the clock starts")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--cards", type=int, default=50)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-eligibility-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        t = time.perf_counter()
        key, bodies = prepare(workdir, args.cards, args.warmup + args.checks)
        presign_s = time.perf_counter() - t
        port = free_port()
        env = {**os.environ, "KOJIN_DATA_DIR": str(workdir), "KOJIN_LANG": "ja"}
        env.pop("KOJIN_DATABASE_URL", None)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "kojin.entrypoints.http.factory:app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.2)
        raws = [request_bytes(port, key, b) for b in bodies]
        # Warm-up: every worker fills its caches (chain, OCSP, patients) before the clock.
        _lat, warm, _s = asyncio.run(drive(port, raws[: args.warmup], args.connections))
        latencies, statuses, elapsed = asyncio.run(drive(port, raws[args.warmup :], args.connections))
        latencies.sort()
        result: dict[str, Any] = {
            "checks": len(latencies),
            "checks_per_s": round(len(latencies) / elapsed),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 2),
            "statuses": statuses,
            "warmup_statuses": warm,
            "connections": args.connections,
            "uvicorn_workers": args.workers,
            "cards": args.cards,
            "card_key": "rsa2048",
            "presign_seconds": round(presign_s, 1),
            "db": "sqlite",
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
