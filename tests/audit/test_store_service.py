"""The exchange log on its own store: same tree as in memory, restarts, threads, keys.

Runs on SQLite, and on PostgreSQL too when ``KOJIN_TEST_POSTGRES`` is set (the
``database`` parameter comes from ``tests/conftest.py``). The helpers at the
top are shared with the other ``tests/audit`` store-backed modules.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import make_url

from kojin.audit.merkle import CorruptNodeStore, MerkleTree, hash_leaf, verify_consistency, verify_inclusion
from kojin.audit.node_store import SqlNodeStore
from kojin.audit.service import MAX_LEAF_BYTES, PASSPHRASE_ENV, AppendReceipt, ExchangeLog, LogUnavailable
from kojin.audit.store import leaves, log_keys, nodes, tree_heads
from kojin.audit.tree_head import verify_tree_head
from kojin.audit.verify import verify_bundle
from kojin.core.config import Settings
from kojin.core.db import Database, register_party
from kojin.core.errors import Conflict, InvalidInput, NotFound
from kojin.core.key_passphrase import KEY_PASSPHRASE_ENV

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/kojin_test"
# Unique per test run, so parallel runs and leftovers never meet.
_RUN = uuid.uuid4().hex[:6]
_SERIAL = itertools.count()


def pg_url() -> str:
    env = os.environ.get("KOJIN_TEST_POSTGRES", "")
    return env if "://" in env else DEFAULT_PG


def _ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("select 1 from pg_database where datname = :n"), {"n": parsed.database}).first():
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def audit_settings(database: str, tmp_path: Path) -> Settings:
    """Settings for a fresh audit store: a SQLite file, or a new PostgreSQL schema."""
    if database != "postgres":
        return Settings(data_dir=tmp_path / "data", database_url=None)
    url = pg_url()
    try:
        _ensure_pg_database(url)
    except Exception as exc:  # say the server is missing, do not hide it as a pass
        pytest.skip(f"PostgreSQL not reachable at {url}: {type(exc).__name__}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        schema_prefix=f"ta{_RUN}{worker}_{next(_SERIAL)}_",
    )


@contextmanager
def audit_database(settings: Settings) -> Iterator[Database]:
    """A migrated audit store; its PostgreSQL schema is dropped afterwards."""
    register_party("audit", "kojin.audit")
    db = Database(settings)
    try:
        db.migrate("audit")
        yield db
    finally:
        db.dispose()
        if not settings.uses_sqlite:
            admin = create_engine(settings.database_url or "", isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema_for("audit")}" CASCADE'))
            finally:
                admin.dispose()


@pytest.fixture
def audit_db(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with audit_database(audit_settings(database, tmp_path)) as db:
        yield db


@pytest.fixture
def log(audit_db: Database) -> Iterator[ExchangeLog]:
    exchange_log = ExchangeLog(audit_db.engine("audit"))
    try:
        yield exchange_log
    finally:
        exchange_log.close()


def record(i: int) -> bytes:
    return f'{{"exchange":{i},"kind":"提供"}}'.encode()


# ---------------------------------------------------------------------------
# The SQL tree is the RFC 9162 tree


def test_roots_and_proofs_equal_the_memory_tree(log: ExchangeLog) -> None:
    data = [record(i) for i in range(203)]
    memory = MerkleTree()
    for d in data:
        memory.append_data(d)
    # Singles and batches of odd sizes, so batch edges fall everywhere.
    receipts: list[AppendReceipt] = []
    position = 0
    for size in itertools.cycle((1, 7, 1, 32, 3, 64)):
        if position >= len(data):
            break
        chunk = data[position : position + size]
        receipts += [log.append(chunk[0])] if size == 1 else log.append_many(chunk)
        position += len(chunk)
    assert [r.index for r in receipts] == list(range(len(data)))
    assert [r.leaf_hash for r in receipts] == [hash_leaf(d) for d in data]
    assert log.size() == len(data)

    for size in range(len(data) + 1):
        assert log.root(size) == memory.root(size)
    for size in (1, 2, 3, 64, 100, 127, 128, 129, 203):
        for index in {0, size // 2, size - 1}:
            assert log.inclusion_proof(index, size) == memory.inclusion_proof(index, size)
        for old in (0, 1, size // 3, size - 1, size):
            assert log.consistency_proof(old, size) == memory.consistency_proof(old, size)
    assert log.leaf_data(150) == data[150]
    assert log.leaf_hash(150) == hash_leaf(data[150])


def test_tables_hold_leaves_once_and_only_complete_subtrees(log: ExchangeLog, audit_db: Database) -> None:
    log.append_many([record(i) for i in range(100)])
    with audit_db.engine("audit").connect() as conn:
        assert conn.execute(select(func.count()).select_from(leaves)).scalar_one() == 100
        # Levels >= 1 hold floor(n / 2^k) nodes each: n - popcount(n) in all.
        assert conn.execute(select(func.count()).select_from(nodes)).scalar_one() == 100 - bin(100).count("1")
        assert conn.execute(select(func.min(nodes.c.level))).scalar_one() == 1
        row = conn.execute(select(leaves).where(leaves.c.leaf_index == 42)).one()
    assert bytes(row.leaf_data) == record(42)
    assert bytes(row.leaf_hash) == hash_leaf(record(42))
    assert row.appended_at is not None


def test_a_fresh_store_rebuilds_the_same_tree(log: ExchangeLog, audit_db: Database) -> None:
    log.append_many([record(i) for i in range(77)])
    store = SqlNodeStore(audit_db.engine("audit"))
    tree = MerkleTree(store)
    assert tree.size == 77
    assert tree.root() == log.root()
    assert store.pending_leaf_count == 0


def test_resync_picks_up_rows_committed_elsewhere(log: ExchangeLog, audit_db: Database) -> None:
    log.append_many([record(i) for i in range(10)])
    store = SqlNodeStore(audit_db.engine("audit"))
    log.append_many([record(i) for i in range(10, 33)])
    store.resync()
    assert MerkleTree(store).root() == log.root()


def test_loading_beside_a_busy_writer_sees_one_snapshot(log: ExchangeLog, audit_db: Database) -> None:
    log.append_many([record(i) for i in range(3000)])
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            log.append_many([record(i + j) for j in range(5)])
            i += 5

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while log.size() < 3100:
            time.sleep(0.001)
        loaded = []
        for _ in range(8):
            tree = MerkleTree(SqlNodeStore(audit_db.engine("audit")))  # CorruptNodeStore if torn
            loaded.append((tree.size, tree.root()))
    finally:
        stop.set()
        writer.join()
    assert loaded[-1][0] > loaded[0][0] >= 3100  # the writer kept going
    for size, root in loaded:
        assert log.root(size) == root


# ---------------------------------------------------------------------------
# Restarts


def test_restart_continues_the_tree_and_proves_consistency(audit_db: Database) -> None:
    engine = audit_db.engine("audit")
    with ExchangeLog(engine) as first:
        first.append_many([record(i) for i in range(37)])
        before = first.sign_tree_head()
        key = first.public_key_pem()
    with ExchangeLog(engine) as second:
        assert second.size() == 37
        assert second.public_key_pem() == key
        assert second.tree_head(37) == before
        assert second.latest_tree_head() == before
        receipt = second.append(record(37))
        assert receipt.index == 37
        second.append_many([record(i) for i in range(38, 90)])
        after = second.sign_tree_head()
        proof = second.consistency_proof(before.tree_size, after.tree_size)
        public: Ed25519PublicKey = second.public_key

    assert verify_tree_head(public, before)
    assert verify_tree_head(public, after)
    assert verify_consistency(before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof)
    memory = MerkleTree()
    for i in range(90):
        memory.append_data(record(i))
    assert after.root_hash == memory.root()


def test_a_store_behind_its_signed_head_is_refused(audit_db: Database) -> None:
    engine = audit_db.engine("audit")
    with ExchangeLog(engine) as exchange_log:
        exchange_log.append_many([record(i) for i in range(20)])
        exchange_log.sign_tree_head()
    with engine.begin() as conn:
        conn.execute(delete(nodes).where(nodes.c.node_index >= 4))
        conn.execute(delete(leaves).where(leaves.c.leaf_index >= 16))
    with pytest.raises(CorruptNodeStore) as err:
        ExchangeLog(engine)
    assert err.value.code == "audit.store_behind_tree_head"


def test_a_gap_in_the_leaves_is_refused(audit_db: Database) -> None:
    engine = audit_db.engine("audit")
    with ExchangeLog(engine) as exchange_log:
        exchange_log.append_many([record(i) for i in range(8)])
    with engine.begin() as conn:
        conn.execute(delete(leaves).where(leaves.c.leaf_index == 3))
    with pytest.raises(CorruptNodeStore):
        SqlNodeStore(engine)


# ---------------------------------------------------------------------------
# Concurrency and group commit


def test_concurrent_appends_from_8_threads(log: ExchangeLog) -> None:
    per_thread = 150
    results: dict[int, list[tuple[AppendReceipt, bytes]]] = {}
    errors: list[BaseException] = []

    def work(t: int) -> None:
        mine: list[tuple[AppendReceipt, bytes]] = []
        try:
            for i in range(per_thread):
                data = f"thread {t} entry {i}".encode()
                if i % 10 == 9:
                    batch = [data + b" a", data + b" b", data + b" c"]
                    receipts = log.append_many(batch)
                    # One call, one transaction: consecutive indexes.
                    assert [r.index for r in receipts] == list(range(receipts[0].index, receipts[0].index + 3))
                    mine += zip(receipts, batch, strict=True)
                else:
                    mine.append((log.append(data), data))
        except BaseException as exc:
            errors.append(exc)
        results[t] = mine

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors

    everything = [pair for mine in results.values() for pair in mine]
    indexes = [r.index for r, _ in everything]
    assert len(set(indexes)) == len(indexes) == log.size()
    assert sorted(indexes) == list(range(log.size()))
    for receipt, data in everything:
        assert receipt.leaf_hash == hash_leaf(data)
        assert log.leaf_hash(receipt.index) == receipt.leaf_hash
    for receipt, data in everything[:: len(everything) // 25]:
        assert log.leaf_data(receipt.index) == data
    memory = MerkleTree()
    for index in range(log.size()):
        memory.append(log.leaf_hash(index))
    assert memory.root() == log.root()


def test_a_failed_commit_is_reported_and_forgotten(log: ExchangeLog, monkeypatch: pytest.MonkeyPatch) -> None:
    log.append_many([record(i) for i in range(5)])
    real = SqlNodeStore.write_pending

    def broken(self: SqlNodeStore, *args: Any) -> None:
        real(self, *args)
        raise OSError("disk on fire")

    with monkeypatch.context() as patched:
        patched.setattr(SqlNodeStore, "write_pending", broken)
        with pytest.raises(LogUnavailable) as err:
            log.append(b"lost")
    assert err.value.code == "audit.write_failed"
    assert log.size() == 5

    assert log.append(b"kept").index == 5
    memory = MerkleTree()
    for d in [*(record(i) for i in range(5)), b"kept"]:
        memory.append_data(d)
    assert log.root() == memory.root()
    assert log.leaf_data(5) == b"kept"


def test_appends_that_do_not_block_are_told_their_receipts(log: ExchangeLog, monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[tuple[AppendReceipt | None, BaseException | None]] = []
    done = threading.Semaphore(0)

    def tell(receipt: AppendReceipt | None, error: BaseException | None) -> None:
        told.append((receipt, error))
        done.release()

    datas = [record(i) for i in range(20)]
    for data in datas:
        log.append_then(data, tell)
    for _ in datas:
        assert done.acquire(timeout=10)
    receipts = sorted((r for r, _ in told if r is not None), key=lambda r: r.index)
    assert [r.index for r in receipts] == list(range(20)) and all(e is None for _, e in told)
    assert [r.leaf_hash for r in receipts] == [hash_leaf(d) for d in datas]
    assert log.size() == 20 and log.leaf_data(7) == datas[7]

    real = SqlNodeStore.write_pending

    def broken(self: SqlNodeStore, *args: Any) -> None:
        real(self, *args)
        raise OSError("disk on fire")

    told.clear()
    with monkeypatch.context() as patched:
        patched.setattr(SqlNodeStore, "write_pending", broken)
        log.append_then(b"lost", tell)
        assert done.acquire(timeout=10)
    ((receipt, error),) = told
    assert receipt is None and isinstance(error, LogUnavailable) and error.code == "audit.write_failed"
    assert log.size() == 20


def test_close_commits_then_refuses(audit_db: Database) -> None:
    exchange_log = ExchangeLog(audit_db.engine("audit"))
    exchange_log.append(b"one")
    exchange_log.close()
    exchange_log.close()
    with pytest.raises(LogUnavailable) as err:
        exchange_log.append(b"two")
    assert err.value.code == "audit.log_closed"
    with pytest.raises(LogUnavailable) as err:
        exchange_log.append_then(b"two", lambda receipt, error: None)
    assert err.value.code == "audit.log_closed"
    with ExchangeLog(audit_db.engine("audit")) as again:
        assert again.size() == 1


# ---------------------------------------------------------------------------
# Tree heads and bundles


def test_tree_heads_are_stored_once_per_size_and_never_go_back(log: ExchangeLog, audit_db: Database) -> None:
    assert log.latest_tree_head() is None
    empty = log.sign_tree_head()
    assert empty.tree_size == 0
    log.append(b"a")
    one = log.sign_tree_head()
    assert log.sign_tree_head() == one  # nothing new: the same head
    log.append(b"b")
    two = log.sign_tree_head()
    assert one.timestamp_ms <= two.timestamp_ms
    assert log.latest_tree_head() == two
    assert log.tree_head(1) == one
    assert all(verify_tree_head(log.public_key, h) for h in (empty, one, two))
    assert one.log_id == "kojin-exchange-log"
    with audit_db.engine("audit").connect() as conn:
        assert conn.execute(select(func.count()).select_from(tree_heads)).scalar_one() == 3
    with pytest.raises(NotFound):
        log.tree_head(5)
    with pytest.raises(InvalidInput):
        log.tree_head(-1)


def test_proof_bundles_verify(log: ExchangeLog) -> None:
    log.append_many([record(i) for i in range(10)])
    old = log.sign_tree_head()
    log.append_many([record(i) for i in range(10, 25)])

    fresh = log.proof_bundle(20)  # no head covers 20 yet: one is signed
    assert log.latest_tree_head() is not None
    assert verify_bundle(fresh, trusted_public_key=log.public_key).ok

    pinned = log.proof_bundle(3, tree_size=10)
    result = verify_bundle(pinned, trusted_public_key=log.public_key)
    assert result.ok and result.tree_size == 10 and result.leaf_index == 3

    linked = log.proof_bundle(22, consistency_from=old.tree_size)
    result = verify_bundle(linked, trusted_public_key=log.public_key)
    assert result.ok
    assert "consistency_proof" in [c.name for c in result.checks]

    tampered = dict(linked)
    tampered["leaf_data"] = "AAAA"
    tampered.pop("leaf_hash")
    assert verify_bundle(tampered).reasons == ["bad_inclusion_proof"]

    with pytest.raises(InvalidInput):
        log.proof_bundle(12, tree_size=10)
    with pytest.raises(NotFound):
        log.proof_bundle(25)
    with pytest.raises(NotFound):
        log.proof_bundle(1, tree_size=7)


def test_bad_arguments(log: ExchangeLog) -> None:
    log.append_many([record(i) for i in range(4)])
    for call in (
        lambda: log.append("text"),  # type: ignore[arg-type]  # a str on purpose: refused
        lambda: log.append(b"x" * (MAX_LEAF_BYTES + 1)),
        lambda: log.inclusion_proof(0, 5),
        lambda: log.inclusion_proof(4, 4),
        lambda: log.inclusion_proof(True, 4),
        lambda: log.consistency_proof(3, 2),
        lambda: log.root(9),
    ):
        with pytest.raises(InvalidInput):
            call()
    with pytest.raises(NotFound):
        log.leaf_data(4)
    assert log.append_many([]) == []
    assert log.append(b"").index == 4  # the empty record is still a record
    # A bytearray is typed out but taken at run time, as bytes.
    assert log.append(bytearray(b"ba")).leaf_hash == hash_leaf(b"ba")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The signing key


def test_the_key_is_stored_plainly_without_a_passphrase(log: ExchangeLog, audit_db: Database) -> None:
    with audit_db.engine("audit").connect() as conn:
        row = conn.execute(select(log_keys)).one()
    assert row.encrypted is False
    assert row.key_id == log.key_id
    with pytest.raises(Conflict):
        ExchangeLog(audit_db.engine("audit"), log_id="another-log")


def test_an_encrypted_key_needs_its_passphrase(audit_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = audit_db.engine("audit")
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    with ExchangeLog(engine, log_id="kojin-test-log") as exchange_log:
        key_id = exchange_log.key_id
        assert exchange_log.sign_tree_head().log_id == "kojin-test-log"
    with engine.connect() as conn:
        row = conn.execute(select(log_keys)).one()
    assert row.encrypted is True
    with ExchangeLog(engine) as again:
        assert again.key_id == key_id
        assert again.log_id == "kojin-test-log"
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(RuntimeError, match="cannot be read"):
        ExchangeLog(engine)
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(RuntimeError, match="encrypted"):
        ExchangeLog(engine)


def test_every_stored_head_verifies_after_many_appends(log: ExchangeLog) -> None:
    heads = []
    for i in range(6):
        log.append_many([record(i * 10 + j) for j in range(i + 3)])
        heads.append(log.sign_tree_head())
    last = heads[-1]
    for head in heads:
        proof = log.consistency_proof(head.tree_size, last.tree_size)
        assert verify_consistency(head.tree_size, last.tree_size, head.root_hash, last.root_hash, proof)
        for index in (0, head.tree_size - 1):
            path = log.inclusion_proof(index, head.tree_size)
            assert verify_inclusion(log.leaf_hash(index), index, head.tree_size, path, head.root_hash)


def test_leaves_appended_after_an_empty_wake_up_still_wake_the_writer(log: ExchangeLog) -> None:
    # The writer takes a batch while the loop's end-of-pass wake-up is still
    # due; that wake-up then finds nothing open, and must not leave a "go"
    # standing that would keep the next pass's leaves from waking the writer.
    import asyncio

    from kojin.core.aio import resolver

    async def main() -> None:
        wake = resolver()

        def append(data: bytes) -> asyncio.Future[AppendReceipt]:
            future: asyncio.Future[AppendReceipt] = asyncio.get_running_loop().create_future()
            log.append_then(data, lambda receipt, error: wake.settle(future, receipt, error))
            return future

        first = append(b"a")
        await asyncio.sleep(0)  # its wake-up runs: the writer starts
        second = append(b"b")  # a wake-up is due again
        time.sleep(0.2)  # meanwhile the writer takes both
        await asyncio.gather(first, second)  # the due wake-up ran over an empty batch
        await asyncio.wait_for(append(b"c"), timeout=10)

    asyncio.run(main())
    assert log.size() == 3


def test_the_installation_key_passphrase_seals_the_log_key_when_no_audit_passphrase_is_set(
    audit_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = audit_db.engine("audit")
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "one passphrase for every key")
    with ExchangeLog(engine) as exchange_log:
        key_id = exchange_log.key_id
    with engine.connect() as conn:
        assert conn.execute(select(log_keys.c.encrypted)).scalar_one() is True
    with ExchangeLog(engine) as again:
        assert again.key_id == key_id
    monkeypatch.delenv(KEY_PASSPHRASE_ENV)
    with pytest.raises(RuntimeError, match="encrypted"):
        ExchangeLog(engine)
