"""Card-authentication benchmark.

    python bench/auth.py [--verifications 10000] [--mode both|threads|asyncio]
                         [--threads 32] [--tasks 64] [--issue 20] [--db URL]

Prints JSON: (a) full relying-party verifications per second in process —
challenge MAC and expiry, certificate chain to the J-LIS root, dates, cached
OCSP, the card's signature, serial linkage, and the single use recorded
durably (the nonce committed with fsync before the answer) — over pre-signed
answers (signing is the card's work, not the relying party's); (b) card
issuances per second with RSA-2048 and with P-256 keys.

Verification is measured two ways, each over its own cards and answers:
``threads`` calls :meth:`CardAuthService.verify` from N client threads (a
threaded server's workers); ``asyncio`` awaits
:meth:`CardAuthService.verify_async` from N tasks on one event loop (the
HTTP API's path). The machine is shared, so each figure carries the load
average, the process CPU time per verification, and ``rsa_verify_us``: one
RSA-2048 signature check timed in this process just before, a yardstick for
how fast the CPU was at that moment.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kojin.app import Kojin, build
from kojin.card.reader import CardReader
from kojin.card.transport import InProcessTransport
from kojin.core.config import Settings
from kojin.registry.domain import Address, PersonDetails, Sex

TODAY = date(2026, 11, 24)
Answer = tuple[str, bytes, bytes]


def presign(kojin: Kojin, people: list[int], n: int) -> list[Answer]:
    """``n`` answers from cards issued to ``people``, each signed over APDUs.

    VERIFY, then COMPUTE DIGITAL SIGNATURE, as the reader would: that is the
    card's time, spent before the relying party's clock starts. The cards are
    unbound from their files only so that signing 10,000 answers does not
    rewrite a card file 10,000 times.
    """
    readers = []
    for rid in people:
        issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", today=TODAY)
        card = kojin.cards.load(issued.card_id)
        card.bind_persistence(None)
        readers.append(CardReader(InProcessTransport(card)))
    certs = []
    for reader in readers:
        with reader:
            certs.append(reader.read_auth_certificate())
    answers = []
    for i in range(n):
        reader = readers[i % len(readers)]
        challenge = kojin.auth.challenge("portal").value
        with reader:
            signature = reader.sign_with_auth_key("1234", challenge.encode())
        answers.append((challenge, certs[i % len(readers)], signature))
    return answers


def rsa_verify_us(answer: Answer) -> float:
    """One RSA-2048 PKCS#1 v1.5 check of a card's answer, best of five runs."""
    challenge, cert, signature = answer
    key = x509.load_der_x509_certificate(cert).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    message = challenge.encode()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(200):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        best = min(best, (time.perf_counter() - t) / 200)
    return round(best * 1e6, 1)


def timed(run: Callable[[], list[float]], n: int, calibration: Answer) -> dict[str, Any]:
    yardstick = rsa_verify_us(calibration)
    # Process CPU time (every thread, user and system) over the timed part: on
    # a shared machine throughput depends on the neighbours, CPU per
    # verification much less.
    load_before = os.getloadavg()
    cpu = time.process_time()
    t = time.perf_counter()
    latencies = run()
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    load_after = os.getloadavg()
    assert len(latencies) == n
    latencies.sort()
    return {
        "verifications_per_s": round(n / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(n * 0.99) - 1] * 1000, 2),
        "cpu_us_per_verification": round(cpu / n * 1e6, 1),
        "rsa_verify_us": yardstick,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }


def run_threads(kojin: Kojin, answers: list[Answer], threads: int) -> list[float]:
    # Each thread is one client presenting its share back to back, as a
    # threaded server's workers would: the clock covers the relying party's
    # work, not a thread pool's futures (~20 µs each).
    shares = [answers[i::threads] for i in range(threads)]
    per_thread: list[list[float]] = [[] for _ in shares]
    start = threading.Barrier(threads + 1)

    def client(share: list[Answer], latencies: list[float]) -> None:
        start.wait()
        for answer in share:
            t0 = time.perf_counter()
            kojin.auth.verify("portal", *answer)
            latencies.append(time.perf_counter() - t0)

    clients = [threading.Thread(target=client, args=pair) for pair in zip(shares, per_thread, strict=True)]
    for thread in clients:
        thread.start()
    start.wait()
    for thread in clients:
        thread.join()
    return [x for latencies in per_thread for x in latencies]


def run_asyncio(kojin: Kojin, answers: list[Answer], tasks: int) -> list[float]:
    latencies: list[float] = []

    async def client(share: list[Answer]) -> None:
        for answer in share:
            t0 = time.perf_counter()
            await kojin.auth.verify_async("portal", *answer)
            latencies.append(time.perf_counter() - t0)

    async def everyone() -> None:
        await asyncio.gather(*(client(answers[i::tasks]) for i in range(tasks)))

    asyncio.run(everyone())
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verifications", type=int, default=10_000, help="per mode")
    parser.add_argument("--mode", choices=("both", "threads", "asyncio"), default="both")
    parser.add_argument("--threads", type=int, default=32, help="client threads (threads mode)")
    parser.add_argument("--tasks", type=int, default=64, help="concurrent tasks (asyncio mode)")
    parser.add_argument("--cards", type=int, default=20, help="distinct cards the answers come from, per mode")
    parser.add_argument("--issue", type=int, default=20, help="cards to issue per algorithm")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    modes = ("threads", "asyncio") if args.mode == "both" else (args.mode,)

    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-auth-"))
    kojin = build(Settings(data_dir=workdir, database_url=args.db, schema_prefix="bench_auth_" if args.db else ""))
    try:
        people = []
        for i in range(len(modes) * args.cards + 2 * args.issue):
            details = PersonDetails(
                f"試験　{i}",
                "シケン　タロウ",
                Sex.MALE,
                date(1970 + i % 40, 1 + i % 12, 1 + i % 28),
                Address("1130033", "", "", "", f"1-{i + 1}"),
            )
            people.append(kojin.register.register(details, municipality_code="13105", today=TODAY).resident.resident_id)

        issue_figures: dict[str, Any] = {"loadavg": [round(x, 2) for x in os.getloadavg()]}
        for alg, group in (("rsa2048", people[: args.issue]), ("p256", people[args.issue : 2 * args.issue])):
            t = time.perf_counter()
            for rid in group:
                kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm=alg, today=TODAY)
            issue_figures[alg] = round(len(group) / (time.perf_counter() - t), 1)

        # Each mode its own cards, so neither finds the other's chain checks
        # and OCSP answers already cached: both start cold.
        t_sign = time.perf_counter()
        answers = {
            mode: presign(kojin, people[2 * args.issue + k * args.cards :][: args.cards], args.verifications)
            for k, mode in enumerate(modes)
        }
        sign_s = time.perf_counter() - t_sign
        calibration = answers[modes[0]][0]

        figures: dict[str, Any] = {}
        if "threads" in answers:
            run = functools.partial(run_threads, kojin, answers["threads"], args.threads)
            figures["threads"] = {"threads": args.threads, **timed(run, args.verifications, calibration)}
        if "asyncio" in answers:
            run = functools.partial(run_asyncio, kojin, answers["asyncio"], args.tasks)
            figures["asyncio"] = {"tasks": args.tasks, **timed(run, args.verifications, calibration)}
        print(
            json.dumps(
                {
                    "verifications": args.verifications,
                    "card_key": "rsa2048",
                    **figures,
                    "issuances_per_s": issue_figures,
                    "presign_seconds": round(sign_s, 1),
                    "db": "postgresql" if args.db else "sqlite",
                    "python": platform.python_version(),
                }
            )
        )
    finally:
        kojin.close()
        if args.db:
            build(kojin.settings, migrate=False).db.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
