"""No acknowledged append is ever lost: SIGKILL a writer mid-load, restart, check.

A child process appends from several threads and prints every index the log
acknowledged (and every tree head it signed) the moment ``append`` returns.
The test kills it with SIGKILL while it is busy, so some batches are mid-
transaction, then opens the store in a fresh ``ExchangeLog`` — which knows
only what the database holds — and requires every printed index to be there
with its data, and the last printed tree head to be provably a prefix of the
tree after the restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kojin.audit.merkle import verify_consistency
from kojin.audit.service import PASSPHRASE_ENV, ExchangeLog
from kojin.audit.store import leaves
from kojin.audit.tree_head import SignedTreeHead, verify_tree_head
from kojin.audit.verify import verify_bundle
from kojin.core.config import Settings
from kojin.core.db import Database
from tests.audit.test_store_service import audit_database, audit_settings

CHILD = textwrap.dedent(
    """
    import sys
    import threading

    from kojin.audit.service import ExchangeLog
    from kojin.core.config import Settings
    from kojin.core.db import Database, register_party

    register_party("audit", "kojin.audit")
    log = ExchangeLog(Database(Settings()).engine("audit"))
    sign_every = int(sys.argv[1])
    out = threading.Lock()
    done = [0]


    def say(line):
        with out:
            sys.stdout.write(line + "\\n")
            sys.stdout.flush()


    def work(t):
        i = 0
        while True:
            if t == 0 and i % 4 == 3:
                batch = [f"{t}:{i}:{j}".encode() for j in range(3)]
                for receipt, data in zip(log.append_many(batch), batch):
                    say(f"ack {receipt.index} {data.hex()}")
            else:
                data = f"{t}:{i}".encode()
                say(f"ack {log.append(data).index} {data.hex()}")
            i += 1
            with out:
                done[0] += 1
                sign = done[0] % sign_every == 0
            if sign:
                say("sth " + log.sign_tree_head().to_json())


    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    """
)

ACKS_BEFORE_KILL = 2500
HEADS_BEFORE_KILL = 3


@pytest.fixture
def settings(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    configured = audit_settings(database, tmp_path)
    with audit_database(configured):
        yield configured


def _run_and_kill(settings: Settings, tmp_path: Path) -> tuple[dict[int, bytes], list[SignedTreeHead], str]:
    script = tmp_path / "appender.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    env["KOJIN_DATA_DIR"] = str(settings.data_dir)
    env["KOJIN_SCHEMA_PREFIX"] = settings.schema_prefix
    env.pop("KOJIN_DATABASE_URL", None)
    if settings.database_url:
        env["KOJIN_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen(
        [sys.executable, str(script), "150"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    # Never hang the suite if the child stops printing.
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    acked: dict[int, bytes] = {}
    heads: list[SignedTreeHead] = []

    def take(line: bytes) -> None:
        kind, _, rest = line.decode("ascii").partition(" ")
        if kind == "ack":
            index, data = rest.split(" ")
            assert int(index) not in acked, "an index was acknowledged twice"
            acked[int(index)] = bytes.fromhex(data)
        elif kind == "sth":
            heads.append(SignedTreeHead.from_json(rest))

    try:
        assert proc.stdout is not None
        while len(acked) < ACKS_BEFORE_KILL or len(heads) < HEADS_BEFORE_KILL:
            line = proc.stdout.readline()
            if not line:
                break
            take(line.rstrip(b"\n"))
        os.kill(proc.pid, signal.SIGKILL)
        rest, errors = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # Lines printed before the kill were acknowledged too; a line cut off
    # mid-write was not completely printed, so it does not count.
    for line in rest.split(b"\n")[:-1]:
        take(line)
    return acked, heads, errors.decode("utf-8", "replace") + f" (exit {proc.returncode})"


def test_sigkill_mid_load_loses_no_acknowledged_append(settings: Settings, tmp_path: Path) -> None:
    acked, heads, child_errors = _run_and_kill(settings, tmp_path)
    assert len(acked) >= ACKS_BEFORE_KILL and len(heads) >= HEADS_BEFORE_KILL, child_errors
    assert "exit -9" in child_errors

    db = Database(settings)
    try:
        engine = db.engine("audit")
        with ExchangeLog(engine) as log:
            assert log.size() > max(acked)
            with engine.connect() as conn:
                stored = {int(i): bytes(d) for i, d in conn.execute(select(leaves.c.leaf_index, leaves.c.leaf_data))}
            missing = [i for i, data in acked.items() if stored.get(i) != data]
            assert not missing, f"acknowledged but lost or changed: {missing[:10]}"

            before = heads[-1]
            assert log.tree_head(before.tree_size) == before
            assert log.root(before.tree_size) == before.root_hash
            log.append(b"after the restart")
            after = log.sign_tree_head()
            assert after.tree_size == log.size() > before.tree_size
            proof = log.consistency_proof(before.tree_size, after.tree_size)
            assert verify_tree_head(log.public_key, before)
            assert verify_tree_head(log.public_key, after)
            assert verify_consistency(before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof)

            bundle = log.proof_bundle(max(acked), consistency_from=before.tree_size)
            assert verify_bundle(bundle, trusted_public_key=log.public_key).ok
    finally:
        db.dispose()


def test_a_second_writer_appends_after_the_first_instead_of_failing(settings: Settings) -> None:
    # A command run beside a server: two logs on one store, each with a tree read before the other wrote.
    db = Database(settings)
    try:
        engine = db.engine("audit")
        with ExchangeLog(engine) as server, ExchangeLog(engine) as command:
            first = server.append(b"the server's leaf")
            second = command.append(b"the command's leaf")  # its tree still ends where the server's began
            third = server.append(b"the server again")  # and the server's ends before the command's leaf
            assert (first.index, second.index, third.index) == (0, 1, 2)
        with ExchangeLog(engine) as reopened:
            assert [reopened.leaf_data(i) for i in range(3)] == [
                b"the server's leaf",
                b"the command's leaf",
                b"the server again",
            ]
            assert verify_bundle(reopened.proof_bundle(1), trusted_public_key=reopened.public_key).ok
    finally:
        db.dispose()
