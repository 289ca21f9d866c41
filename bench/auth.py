"""Card-authentication benchmark.

    python bench/auth.py [--verifications 10000] [--threads 32] [--issue 20]

Prints JSON: (a) full relying-party verifications per second in process —
challenge MAC and expiry, certificate chain to the J-LIS root, dates, cached
OCSP, the card's signature, single use recorded durably (group commit), serial
linkage — over pre-signed answers (signing is the card's work, not the relying
party's); (b) card issuances per second with RSA-2048 and with P-256 keys.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from kojin.app import build
from kojin.card.reader import CardReader
from kojin.card.transport import InProcessTransport
from kojin.core.config import Settings
from kojin.registry.domain import Address, PersonDetails, Sex

TODAY = date(2026, 11, 24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verifications", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--cards", type=int, default=20, help="distinct cards the answers come from")
    parser.add_argument("--issue", type=int, default=20, help="cards to issue per algorithm")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kojin-bench-auth-"))
    kojin = build(Settings(data_dir=workdir, database_url=args.db, schema_prefix="bench_auth_" if args.db else ""))
    try:
        people = []
        for i in range(args.cards + 2 * args.issue):
            details = PersonDetails(
                f"試験　{i}",
                "シケン　タロウ",
                Sex.MALE,
                date(1970 + i % 40, 1 + i % 12, 1 + i % 28),
                Address("1130033", "", "", "", f"1-{i + 1}"),
            )
            people.append(kojin.register.register(details, municipality_code="13105", today=TODAY).resident.resident_id)

        issue_figures = {}
        for alg, group in (
            ("rsa2048", people[args.cards : args.cards + args.issue]),
            ("p256", people[args.cards + args.issue :]),
        ):
            t = time.perf_counter()
            for rid in group:
                kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm=alg, today=TODAY)
            issue_figures[alg] = round(len(group) / (time.perf_counter() - t), 1)

        cards = [
            kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", today=TODAY)
            for rid in people[: args.cards]
        ]
        # Every answer is signed by a card over APDUs (VERIFY, then COMPUTE
        # DIGITAL SIGNATURE), as the reader would; that is the card's time, so
        # it is spent before the clock for the relying party starts. The cards
        # are unbound from their files here only so that signing 10,000
        # answers does not rewrite a card file 10,000 times.
        readers = []
        for issued in cards:
            card = kojin.cards.load(issued.card_id)
            card.bind_persistence(None)
            readers.append(CardReader(InProcessTransport(card)))
        certs = []
        for reader in readers:
            with reader:
                certs.append(reader.read_auth_certificate())
        answers = []
        t_sign = time.perf_counter()
        for n in range(args.verifications):
            reader = readers[n % len(readers)]
            challenge = kojin.auth.challenge("portal").value
            with reader:
                signature = reader.sign_with_auth_key("1234", challenge.encode())
            answers.append((challenge, certs[n % len(readers)], signature))
        sign_s = time.perf_counter() - t_sign

        # Each thread is one client presenting its share of the answers back to
        # back, as a threaded server's workers would: the clock covers the
        # relying party's work, not a thread pool's futures (~20 µs each).
        shares = [answers[i :: args.threads] for i in range(args.threads)]
        per_thread: list[list[float]] = [[] for _ in shares]
        start = threading.Barrier(args.threads + 1)

        def client(share: list[tuple[str, bytes, bytes]], latencies: list[float]) -> None:
            start.wait()
            for answer in share:
                t0 = time.perf_counter()
                kojin.auth.verify("portal", *answer)
                latencies.append(time.perf_counter() - t0)

        clients = [
            threading.Thread(target=client, args=(share, lat)) for share, lat in zip(shares, per_thread, strict=True)
        ]
        for thread in clients:
            thread.start()
        # Process CPU time (every thread, user and system) over the timed part:
        # on a shared machine throughput depends on the neighbours, CPU per
        # verification much less.
        load_before = os.getloadavg()
        cpu = time.process_time()
        t = time.perf_counter()
        start.wait()
        for thread in clients:
            thread.join()
        elapsed = time.perf_counter() - t
        cpu = time.process_time() - cpu
        load_after = os.getloadavg()
        latencies = [x for lat in per_thread for x in lat]
        latencies.sort()
        print(
            json.dumps(
                {
                    "verifications": len(answers),
                    "threads": args.threads,
                    "verifications_per_s": round(len(answers) / elapsed),
                    "p50_ms": round(statistics.median(latencies) * 1000, 2),
                    "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
                    "cpu_us_per_verification": round(cpu / len(answers) * 1e6, 1),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in load_after],
                    "card_key": "rsa2048",
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
