"""Seeding a demo municipality: crash-safe and idempotent, and its numbering child dies with it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from kojin.app import Kojin
from kojin.demo.municipality import seed_municipality, seed_run
from kojin.numbering.store import numbers
from kojin.registry.store import residents

MUNICIPALITY = "13105"


class _Killed(Exception):
    """Stands for a crash between two batches."""


def _numbers_per_resident(kojin: Kojin) -> Counter[str]:
    """How many numbers J-LIS holds for each code the register holds (1 each, if nobody was numbered twice)."""
    with kojin.register.engine.connect() as conn:
        codes = [str(c) for c in conn.execute(select(residents.c.juminhyo_code))]
    with kojin.numbering.engine.connect() as conn:
        held = Counter(str(c) for c in conn.execute(select(numbers.c.juminhyo_code)))
    return Counter({code: held[code] for code in codes})


def test_a_seed_run_interrupted_then_run_again_enrols_each_person_once(kojin: Kojin) -> None:
    def crash_after_two_batches(total: int) -> None:
        if total >= 40:
            raise _Killed

    with pytest.raises(_Killed):
        seed_municipality(kojin, 90, MUNICIPALITY, 7, batch=20, on_progress=crash_after_two_batches)
    households, people = kojin.register.enrolment_progress(seed_run(MUNICIPALITY, 7, 90))
    assert people == kojin.register.count() and 40 <= people < 90 and households > 0

    assert seed_municipality(kojin, 90, MUNICIPALITY, 7, batch=20) == 90
    # Finished: the same command again enrols nobody.
    assert seed_municipality(kojin, 90, MUNICIPALITY, 7, batch=20) == 90
    per_resident = _numbers_per_resident(kojin)
    assert kojin.register.count() == 90 and len(per_resident) == 90
    assert set(per_resident.values()) == {1}


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``, from /proc (psutil may be absent)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie holds no lock


def _progress(data: Path, run: str) -> int:
    store = data / "registry.sqlite3"
    if not store.exists():
        return 0
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT people FROM enrolment_runs WHERE run = ?", (run,)).fetchone()
    except sqlite3.OperationalError:
        return 0  # not migrated yet
    finally:
        conn.close()
    return 0 if row is None else int(row[0])


def _seed_command(data: Path, residents_: int) -> tuple[list[str], dict[str, str]]:
    command = [
        sys.executable,
        "-c",
        "from kojin.entrypoints.cli import main; main()",
        "seed",
        "--residents",
        str(residents_),
        "--seed",
        "3",
        "--batch",
        "100",
        "--numbering-process",
    ]
    env = {**os.environ, "KOJIN_DATA_DIR": str(data), "KOJIN_LANG": "en"}
    env.pop("KOJIN_DATABASE_URL", None)
    env.pop("KOJIN_OPERATOR", None)
    return command, env


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_kill_9_of_kojin_seed_leaves_no_child_and_the_same_command_finishes_the_job(tmp_path: Path) -> None:
    data, total = tmp_path / "data", 3000
    command, env = _seed_command(data, total)
    run = seed_run(MUNICIPALITY, 3, total)
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while _progress(data, run) == 0 and parent.poll() is None and time.monotonic() < deadline:
            children |= _children(parent.pid)
            time.sleep(0.02)
        children |= _children(parent.pid)
        done = _progress(data, run)
        assert parent.poll() is None and 0 < done < total, (done, parent.stderr)
        assert children  # the numbering process was running
        os.kill(parent.pid, signal.SIGKILL)
    finally:
        parent.kill()
        parent.wait()
        assert parent.stderr is not None
        parent.stderr.close()
    deadline = time.monotonic() + 60
    while any(map(_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"enrolled {total} residents" in again.stdout
    from kojin.app import build
    from kojin.core.config import Settings

    system = build(Settings(data_dir=data), migrate=False)
    try:
        per_resident = _numbers_per_resident(system)
        assert system.register.count() == total and len(per_resident) == total
        assert set(per_resident.values()) == {1}
    finally:
        system.close()
