"""What every benchmark reports beside its figures: how fast this machine is today, and CPU time.

Machines of one kind differ by two times from one day to the next; figures from
different days compare only beside :func:`calibration`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from kojin.core.crypto import SigningKey, verify_ed25519


def calibration() -> dict[str, float]:
    """How fast this machine is at what an exchange or a read is made of.

    Machines of one kind differ here by two times from one day to the next;
    figures from different days compare only beside these.
    """
    t0 = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    loop = time.perf_counter() - t0
    key, message = SigningKey.generate(), b"kojin calibration " * 12
    t0 = time.perf_counter()
    for _ in range(2000):
        signature = key.sign(message)
    sign = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(2000):
        verify_ed25519(key.public_raw, signature, message)
    verify = time.perf_counter() - t0
    return {
        "python_loop_ns_per_iteration": round(loop / 2_000_000 * 1e9, 1),
        "ed25519_sign_us": round(sign / 2000 * 1e6, 1),
        "ed25519_verify_us": round(verify / 2000 * 1e6, 1),
    }


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one by default), from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpus(spec: str) -> set[int] | None:
    if spec == "any":
        return None
    if spec == "last":
        count = os.cpu_count() or 1
        return {count - 1} if count > 1 else None
    return {int(c) for c in spec.split(",")}
