"""The durable record of used challenges: each nonce spent once, here or in another process."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from kojin.app import Kojin
from kojin.auth.single_use import UsedChallenges
from kojin.auth.store import used_challenges
from kojin.core.group_commit import WriterClosed
from kojin.pki.domain import as_utc

NOW = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


def nonce() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture
def engine(kojin: Kojin) -> Engine:
    return kojin.db.engine("auth")


@pytest.fixture
def used(engine: Engine) -> Iterator[UsedChallenges]:
    record = UsedChallenges(engine, name="test-used-challenges")
    yield record
    record.close()


def spend(used: UsedChallenges, value: str) -> bool:
    return used.record(value, "portal", "123456789", NOW + timedelta(minutes=2), NOW)


@contextmanager
def writes_held(engine: Engine) -> Iterator[None]:
    """Hold the store's write lock from another connection, as another process might."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path is not None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("COMMIT")
            other.close()
        return
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE used_challenges IN EXCLUSIVE MODE"))
        yield
        conn.commit()


def test_a_nonce_is_spent_once(engine: Engine, used: UsedChallenges) -> None:
    value = nonce()
    assert spend(used, value) is True
    assert spend(used, value) is False
    # Another writer on the same store (as another worker process has) agrees.
    other = UsedChallenges(engine, name="test-other-writer")
    try:
        assert spend(other, value) is False
        assert spend(other, nonce()) is True
    finally:
        other.close()


def test_what_lands_is_what_core_reads_back(engine: Engine, used: UsedChallenges) -> None:
    value = nonce()
    assert used.record(value, "clinic-1", "987654321987654321", NOW + timedelta(minutes=2), NOW)
    with engine.connect() as conn:
        row = conn.execute(select(used_challenges).where(used_challenges.c.nonce == value)).one()
    assert (row.nonce, row.rp_id, row.serial) == (value, "clinic-1", "987654321987654321")
    assert as_utc(row.expires_at) == NOW + timedelta(minutes=2)
    assert as_utc(row.used_at) == NOW


def test_concurrent_spends_of_the_same_nonces(used: UsedChallenges) -> None:
    values = [nonce() for _ in range(40)]
    fresh: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for value in values:
            if spend(used, value):
                with lock:
                    fresh.append(value)

    threads = [threading.Thread(target=client) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fresh) == sorted(values)  # each exactly once


def test_a_batch_with_replays_and_a_twice_posted_answer(engine: Engine, used: UsedChallenges) -> None:
    old, twice, new = nonce(), nonce(), nonce()
    assert spend(used, old)
    results: dict[str, list[bool]] = {}
    lock = threading.Lock()

    def client(value: str, key: str) -> None:
        outcome = spend(used, value)
        with lock:
            results.setdefault(key, []).append(outcome)

    with writes_held(engine):
        # The first spend waits for the lock inside the writer; the others
        # queue meanwhile and go to the store together, in one batch.
        first = threading.Thread(target=client, args=(nonce(), "first"))
        first.start()
        time.sleep(0.2)
        rest = [
            threading.Thread(target=client, args=(value, key))
            for value, key in ((old, "old"), (twice, "twice"), (twice, "twice"), (new, "new"))
        ]
        for thread in rest:
            thread.start()
        time.sleep(0.2)
        assert not results  # nothing is answered before it is recorded
    for thread in (first, *rest):
        thread.join()
    assert results["first"] == [True]
    assert results["old"] == [False]
    assert sorted(results["twice"]) == [False, True]
    assert results["new"] == [True]


def test_a_failed_write_records_nothing_and_the_writer_recovers(engine: Engine, used: UsedChallenges) -> None:
    assert spend(used, nonce())
    value = nonce()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE used_challenges RENAME TO used_challenges_away"))
    try:
        with pytest.raises(DBAPIError):
            spend(used, value)
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE used_challenges_away RENAME TO used_challenges"))
    assert spend(used, value) is True  # it was never recorded


def test_the_record_is_synced_on_every_commit(engine: Engine, used: UsedChallenges) -> None:
    # Durability is the record's point: whatever the engine's or the server's
    # defaults, the writer's own connection waits for the disk on each commit.
    conn = used._connection()
    if engine.dialect.name == "sqlite":
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    else:
        with conn.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
        conn.rollback()
    assert spend(used, nonce())


def test_no_spending_after_close(engine: Engine) -> None:
    record = UsedChallenges(engine, name="test-closing")
    assert spend(record, nonce())
    record.close()
    with pytest.raises(WriterClosed):
        spend(record, nonce())


_SPENDER = """
import json, sys, threading
from datetime import UTC, datetime
from pathlib import Path
from kojin.auth.single_use import UsedChallenges
from kojin.core.config import Settings
from kojin.core.db import Database, register_party

register_party("auth", "kojin.auth")
data_dir, url, prefix = sys.argv[1], sys.argv[2] or None, sys.argv[3]
db = Database(Settings(data_dir=Path(data_dir), database_url=url, schema_prefix=prefix))
used = UsedChallenges(db.engine("auth"))
now = datetime.now(UTC)
print("ready", flush=True)
values = json.loads(sys.stdin.read())  # the start signal
fresh = []
def client(share):
    for value in share:
        if used.record(value, "portal", "1", now, now):
            fresh.append(value)
threads = [threading.Thread(target=client, args=(values[i::4],)) for i in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
used.close()
print(json.dumps(fresh))
"""


def test_replays_are_refused_across_processes(kojin: Kojin) -> None:
    values = [nonce() for _ in range(300)]
    settings = kojin.settings
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SPENDER,
                str(settings.data_dir),
                settings.database_url or "",
                settings.schema_prefix,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        # Both spend the same nonces at the same time, in different orders.
        for process, order in zip(processes, (values, values[::-1]), strict=True):
            assert process.stdin is not None
            process.stdin.write(json.dumps(order))
            process.stdin.close()
        outputs = []
        for process in processes:
            assert process.stdout is not None
            outputs.append(process.stdout.read())
            assert process.wait(timeout=120) == 0
    finally:
        for process in processes:  # a failed assertion must not leave them waiting on stdin
            if process.poll() is None:
                process.kill()
                process.wait()
    fresh = [set(json.loads(out.splitlines()[-1])) for out in outputs]
    assert not fresh[0] & fresh[1]
    assert fresh[0] | fresh[1] == set(values)


def test_coroutines_spend_once_alongside_threads(used: UsedChallenges) -> None:
    values = [nonce() for _ in range(60)]
    from_threads: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for value in values:
            if spend(used, value):
                with lock:
                    from_threads.append(value)

    async def spend_all() -> list[str]:
        async def one(value: str) -> str | None:
            fresh = await used.record_async(value, "portal", "1", NOW, NOW)
            return value if fresh else None

        return [v for v in await asyncio.gather(*(one(value) for value in values)) if v is not None]

    thread = threading.Thread(target=client)
    thread.start()
    from_coroutines = asyncio.run(spend_all())
    thread.join()
    assert not set(from_threads) & set(from_coroutines)
    assert sorted(from_threads + from_coroutines) == sorted(values)


def test_a_cancelled_coroutine_is_not_answered_and_others_are(engine: Engine, used: UsedChallenges) -> None:
    cancelled, other = nonce(), nonce()

    async def scenario() -> bool:
        with writes_held(engine):
            waiting = asyncio.ensure_future(used.record_async(cancelled, "portal", "1", NOW, NOW))
            kept = asyncio.ensure_future(used.record_async(other, "portal", "1", NOW, NOW))
            await asyncio.sleep(0.1)
            waiting.cancel()
            await asyncio.sleep(0.1)
            assert not kept.done()  # not before the record is durable
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await kept

    assert asyncio.run(scenario()) is True
    assert spend(used, other) is False
    # Its caller went away, so no login was accepted; the challenge went to
    # the store before the cancel and stays spent (closed, not open).
    assert spend(used, cancelled) is False


def test_coroutines_after_close(engine: Engine) -> None:
    record = UsedChallenges(engine, name="test-closing-async")
    record.close()

    async def late() -> bool:
        return await record.record_async(nonce(), "portal", "1", NOW, NOW)

    with pytest.raises(WriterClosed):
        asyncio.run(late())


def test_expired_nonces_are_forgotten_and_fresh_ones_kept(used: UsedChallenges, engine: Engine) -> None:
    old, recent = nonce(), nonce()
    # Expired two hours before NOW: past the hour kept for lagging clocks.
    assert used.record(old, "portal", "1", NOW - timedelta(hours=2), NOW - timedelta(hours=2, minutes=2))
    assert used.record(recent, "portal", "2", NOW - timedelta(minutes=30), NOW - timedelta(minutes=32))
    assert spend(used, nonce())
    assert used.purge_expired(NOW) == 1
    with engine.connect() as conn:
        kept = {r[0] for r in conn.execute(select(used_challenges.c.nonce))}
    assert old not in kept and recent in kept and len(kept) == 2
    # What is kept still refuses its replay.
    assert used.record(recent, "portal", "2", NOW - timedelta(minutes=30), NOW) is False
    assert used.purge_expired(NOW) == 0
