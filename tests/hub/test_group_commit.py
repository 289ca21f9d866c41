"""The shared group-commit writer and hot-path readers (kojin.core.group_commit)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError

from kojin.app import Kojin
from kojin.core.group_commit import GroupCommit, Row, ThreadReaders, WriterClosed
from kojin.hub.store import seen_requests


@pytest.fixture
def engine(kojin: Kojin) -> Engine:
    return kojin.db.engine("hub")


@pytest.fixture
def writer(engine: Engine) -> Iterator[GroupCommit]:
    gc = GroupCommit(engine, name="test-writer")
    yield gc
    gc.close()


def _row(requester: str, request_id: str) -> Row:
    return (seen_requests, {"requester": requester, "request_id": request_id, "seen_at": datetime.now(UTC)})


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(seen_requests)).scalar_one())


def test_concurrent_callers_all_land(engine: Engine, writer: GroupCommit) -> None:
    def work(t: int) -> None:
        for i in range(50):
            writer.write([_row(f"a{t}", f"r{i}")])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(engine) == 400


def test_one_callers_bad_rows_fail_only_that_caller(engine: Engine, writer: GroupCommit) -> None:
    writer.write([_row("a", "dup")])
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(i: int) -> None:
        barrier.wait()
        try:
            writer.write([_row("a", "dup" if i == 0 else f"ok{i}")])
        except IntegrityError as exc:  # SQLAlchemy's, as from Core
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1
    assert _count(engine) == 6


def test_write_later_flush_and_close(engine: Engine, writer: GroupCommit) -> None:
    outcomes: list[BaseException | None] = []
    for i in range(20):
        writer.write_later([_row("b", f"r{i}")], outcomes.append)
    writer.flush()
    assert _count(engine) == 20 and outcomes == [None] * 20
    writer.close()
    with pytest.raises(WriterClosed):
        writer.write([_row("b", "late")])


def test_readers_see_what_was_committed(engine: Engine, writer: GroupCommit) -> None:
    readers = ThreadReaders(engine)
    try:
        query = "SELECT request_id FROM seen_requests WHERE requester = ? AND request_id = ?"
        assert readers.first(query, ("c", "x")) is None
        writer.write([_row("c", "x")])
        assert readers.first(query, ("c", "x")) == ("x",)
    finally:
        readers.close()


def test_a_ticket_waits_for_its_own_rows(engine: Engine, writer: GroupCommit) -> None:
    first = writer.submit([_row("d", "x")])
    clash = writer.submit([_row("d", "x")])
    first.wait()
    with pytest.raises(IntegrityError):
        clash.wait()
    with pytest.raises(IntegrityError):
        clash.wait()  # waiting again gives the same answer
    assert _count(engine) == 1


def _synchronous(conn: DBAPIConnection | None) -> int | str:
    assert conn is not None
    cursor = conn.cursor()
    try:
        cursor.execute("SHOW synchronous_commit" if _is_pg(conn) else "PRAGMA synchronous")
        row = cursor.fetchone()
        assert row is not None
        value = row[0]
    finally:
        cursor.close()
    levels: dict[str, int | str] = {"off": 0, "on": 2}
    return levels.get(value, value) if isinstance(value, str) else int(value)


def _is_pg(conn: object) -> bool:
    return "psycopg" in type(conn).__module__


def test_a_writer_of_derived_rows_skips_the_fsync_on_its_own_connection_only(engine: Engine) -> None:
    derived = GroupCommit(engine, name="test-derived", durable=False, linger=0.05)
    try:
        derived.write([_row("e", "x")])
        # SQLite NORMAL (1): no fsync per commit in WAL mode; PostgreSQL synchronous_commit off.
        expected = 1 if engine.dialect.name == "sqlite" else 0
        assert _synchronous(derived._connection().dbapi_connection) == expected
        # Everyone else's connections still commit durably.
        with engine.connect() as conn:
            assert _synchronous(conn.connection.dbapi_connection) == 2
    finally:
        derived.close()
    with pytest.raises(ValueError):
        GroupCommit(engine, durable=True, linger=0.01)


def test_lingering_puts_rows_nobody_waits_for_in_few_commits(engine: Engine) -> None:
    derived = GroupCommit(engine, name="test-derived", durable=False, linger=0.2)
    try:
        done: list[BaseException | None] = []
        for i in range(50):
            derived.write_later([_row("f", f"r{i}")], done.append)
        derived.flush()  # a waiting caller ends the linger
        assert _count(engine) == 50 and done == [None] * 50
        assert derived.commit_count <= 2
    finally:
        derived.close()


def test_a_ticket_tells_whoever_registers_before_or_after(engine: Engine, writer: GroupCommit) -> None:
    told: list[tuple[str, BaseException | None]] = []
    early = writer.submit([_row("g", "x")])
    early.then(lambda error: told.append(("early", error)))
    early.wait()
    early.then(lambda error: told.append(("late", error)))  # already done: at once
    clash = writer.submit([_row("g", "x")])
    both = threading.Event()

    def clash_done(error: BaseException | None) -> None:
        told.append(("clash", error))
        both.set()

    clash.then(clash_done)
    assert both.wait(10)
    assert [name for name, _ in told] == ["early", "late", "clash"]
    assert told[0][1] is None and told[1][1] is None and isinstance(told[2][1], IntegrityError)


def test_event_loop_callers_wait_without_blocking_and_are_woken_together(engine: Engine, writer: GroupCommit) -> None:
    import asyncio

    from kojin.core.aio import resolver, until_done

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        woken = 0
        real = loop.call_soon_threadsafe

        def counting(callback: Callable[..., object], *args: Any) -> asyncio.Handle:
            nonlocal woken
            woken += 1
            return real(callback, *args)

        # Counts the loop's wake-ups from other threads: this loop only, for this test. mypy
        # checks an instance's method replaced against the unbound method (self first): no fit.
        loop.call_soon_threadsafe = counting  # type: ignore[method-assign,assignment]
        heartbeat = 0

        async def beat() -> None:
            nonlocal heartbeat
            while True:
                heartbeat += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(beat())
        outcomes = await asyncio.gather(
            *(until_done(writer.submit([_row("h", f"r{i}")]).then) for i in range(40)),
            until_done(writer.submit([_row("h", "r0")]).then),  # a clash fails only its own waiter
            return_exceptions=True,
        )
        ticker.cancel()
        assert heartbeat > 1  # the loop kept running while the commits were in flight
        assert woken <= 10  # a commit's waiters share wake-ups (41 one by one)
        # A future cancelled before its result arrives is skipped, not an error.
        cancelled: asyncio.Future[None] = loop.create_future()
        cancelled.cancel()
        resolver().settle(cancelled, None, None)
        await asyncio.sleep(0.01)
        return [type(o).__name__ for o in outcomes]

    names = asyncio.run(main())
    assert names == ["NoneType"] * 40 + ["IntegrityError"]
    assert _count(engine) == 40


def test_rows_queued_after_an_empty_wake_up_still_wake_the_writer(engine: Engine) -> None:
    # The writer takes a batch while the loop's end-of-pass wake-up is still
    # due; that wake-up then finds nothing open, and must not leave a "go"
    # standing that would keep the next pass's rows from waking the writer.
    import asyncio
    import time

    from kojin.core.aio import resolver

    derived = GroupCommit(engine, name="test-derived", durable=False, linger=0.001)

    async def main() -> None:
        wake = resolver()

        def queue(request_id: str) -> asyncio.Future[None]:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            derived.write_later([_row("i", request_id)], lambda error: wake.settle(future, None, error))
            return future

        first = queue("a")
        await asyncio.sleep(0)  # its wake-up runs: the writer starts
        second = queue("b")  # a wake-up is due again
        time.sleep(0.2)  # meanwhile the writer takes both
        await asyncio.gather(first, second)  # the due wake-up ran over an empty batch
        await asyncio.wait_for(queue("c"), timeout=10)

    try:
        asyncio.run(main())
        assert _count(engine) == 3
    finally:
        derived.close()


def test_a_loop_closed_before_its_wake_up_ran_holds_nobody_else_up(engine: Engine, writer: GroupCommit) -> None:
    import asyncio

    from kojin.core.aio import until_done

    first = asyncio.new_event_loop()

    async def queue_and_stop() -> None:
        writer.write_later([_row("k", "a")])  # its wake-up is due at the end of this pass
        first.stop()  # ... which never comes: the loop stops, then closes
        await asyncio.sleep(3600)

    stranded = first.create_task(queue_and_stop())
    first.run_forever()
    assert not stranded.done()
    first.close()

    async def on_another_loop() -> None:
        await asyncio.wait_for(until_done(writer.submit([_row("k", "b")]).then), timeout=10)

    asyncio.run(on_another_loop())
    assert _count(engine) == 2
