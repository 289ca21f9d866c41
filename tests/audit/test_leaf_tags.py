"""The log's person index (``leaf_tags``): written in the leaf's own commit, read by tag, kept across restarts.

Runs on SQLite, and on PostgreSQL too when ``KOJIN_TEST_POSTGRES`` is set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kojin.audit.service import AppendReceipt, ExchangeLog, LogUnavailable
from kojin.audit.store import leaf_tags, leaves
from kojin.audit.verify import verify_bundle
from kojin.core.db import Database
from kojin.core.errors import InvalidInput, NotFound
from tests.audit.test_store_service import audit_database, audit_settings, record

ALICE = b"a" * 32
BOB = b"b" * 32


@pytest.fixture
def audit_db(database: str, tmp_path: Path) -> Iterator[Database]:
    with audit_database(audit_settings(database, tmp_path)) as db:
        yield db


@pytest.fixture
def log(audit_db: Database) -> Iterator[ExchangeLog]:
    with ExchangeLog(audit_db.engine("audit")) as exchange_log:
        yield exchange_log


def _rows(db: Database) -> int:
    with db.engine("audit").connect() as conn:
        return int(conn.execute(select(func.count()).select_from(leaf_tags)).scalar_one())


def test_tagged_leaves_are_found_by_tag_newest_first(log: ExchangeLog) -> None:
    first = log.append(record(0), (ALICE, "13105", "13104"))
    log.append(record(1))  # about nobody: not indexed
    batch = log.append_many([record(2), record(3), record(4)], [(BOB, "13105", "nta"), None, (ALICE, "jps", "13104")])
    assert log.tagged(ALICE) == [batch[2].index, first.index]
    assert log.tagged(BOB) == [batch[0].index]
    assert log.tagged(b"c" * 32) == []
    assert log.tagged(ALICE, agency="jps") == [batch[2].index]
    assert log.tagged(ALICE, agency="13104") == [batch[2].index, first.index]
    assert log.is_tagged(ALICE, first.index) and not log.is_tagged(BOB, first.index)
    assert not log.is_tagged(ALICE, 10_000) and log.tag_count() == 3
    assert log.leaves_data([first.index, batch[2].index, 99]) == {
        first.index: record(0),
        batch[2].index: record(4),
    }


def test_the_non_blocking_appends_index_too(log: ExchangeLog) -> None:
    async def both() -> tuple[AppendReceipt, list[AppendReceipt]]:
        loop = asyncio.get_running_loop()
        one: asyncio.Future[AppendReceipt] = loop.create_future()
        many: asyncio.Future[list[AppendReceipt]] = loop.create_future()

        def settle(future: asyncio.Future, value: object, error: BaseException | None) -> None:  # type: ignore[type-arg]
            loop.call_soon_threadsafe(future.set_result, value)

        log.append_then(record(0), lambda r, e: settle(one, r, e), (ALICE, "13105", "13104"))
        log.append_many_then([record(1), record(2)], lambda r, e: settle(many, r, e), [None, (ALICE, "a", "b")])
        return await one, await many

    single, batch = asyncio.run(both())
    assert sorted(log.tagged(ALICE)) == sorted([single.index, batch[1].index])


def test_bad_index_rows_are_refused_and_nothing_is_logged(log: ExchangeLog) -> None:
    for tag in ((b"short", "a", "b"), (ALICE, 1, "b"), (ALICE, "a")):
        with pytest.raises(InvalidInput) as err:
            log.append(record(0), tag)  # type: ignore[arg-type]
        assert err.value.code == "audit.bad_leaf_tag"
    with pytest.raises(InvalidInput):
        log.append_many([record(0), record(1)], [(ALICE, "a", "b")])
    assert log.size() == 0 and log.tag_count() == 0


def test_the_index_survives_a_restart_and_reindexing_adds_only_what_is_missing(audit_db: Database) -> None:
    engine = audit_db.engine("audit")
    with ExchangeLog(engine) as first:
        indexed = first.append(record(0), (ALICE, "13105", "13104")).index
        unindexed = first.append(record(1)).index
    with ExchangeLog(engine) as again:
        assert again.tagged(ALICE) == [indexed]
        added = again.add_tags([(ALICE, indexed, "13105", "13104"), (ALICE, unindexed, "13105", "jps")])
        assert added == 1
        assert again.tagged(ALICE) == [unindexed, indexed]
        # Rows for leaves the log does not hold are not written.
        assert again.add_tags([(BOB, 500, "x", "y")]) == 0
    assert _rows(audit_db) == 2


def test_a_leaf_and_its_index_row_commit_together(audit_db: Database) -> None:
    engine = audit_db.engine("audit")
    with ExchangeLog(engine) as exchange_log:
        receipts = exchange_log.append_many([record(i) for i in range(50)], [(ALICE, "r", "p")] * 50)
    with engine.connect() as conn:
        logged = {int(i) for (i,) in conn.execute(select(leaves.c.leaf_index))}
        tagged = {int(i) for (i,) in conn.execute(select(leaf_tags.c.leaf_index))}
    assert logged == tagged == {r.index for r in receipts}


def test_a_leaf_whose_index_row_cannot_be_written_is_not_logged(audit_db: Database) -> None:
    engine = audit_db.engine("audit")
    with engine.begin() as conn:  # a stray row in the way of the next leaf's
        conn.execute(leaf_tags.insert().values(tag=ALICE, leaf_index=0, requester="x", provider="y"))
    with ExchangeLog(engine) as exchange_log:
        with pytest.raises(LogUnavailable):
            exchange_log.append(record(0), (ALICE, "13105", "13104"))
        assert exchange_log.size() == 0
        # A leaf about nobody still goes in: the log itself is unharmed.
        assert exchange_log.append(record(1)).index == 0


def test_bundles_for_a_page_of_entries_match_the_single_ones(log: ExchangeLog) -> None:
    receipts = log.append_many([record(i) for i in range(37)], [(ALICE, "r", "p")] * 37)
    wanted = [receipts[i].index for i in (0, 5, 36)]
    bundles = log.proof_bundles(wanted)
    assert sorted(bundles) == sorted(wanted)
    for index, bundle in bundles.items():
        assert verify_bundle(bundle, trusted_public_key=log.public_key).ok
        assert bundle == log.proof_bundle(index)  # the same head: the latest, signed once
    assert log.proof_bundles([]) == {}
    with pytest.raises(NotFound):
        log.proof_bundles([0, 500])
