"""J-LIS numbering in a process of its own, for bulk enrolment (一斉付番).

J-LIS is a separate party; in the embedded default it shares the process with
everyone else. For bulk work that wastes the second core: the register spends
its time in SQLite inserts, numbering in HMACs and its own inserts, and threads
in one interpreter serialise on the GIL. ``NumberingProcess`` runs the numbering
service in a spawned child over the same numbering store, so J-LIS numbers the
next part of a batch while the register writes the part before it.

The child has one worker, so calls run in the order they were submitted: a
batch is ``begin`` … parts … ``commit``, all in one J-LIS transaction. It is
spawned (not forked) and dies with the process that started it: a killed
parent leaves no child holding the numbering store's lock, and the batch the
child had open is rolled back with it.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from kojin.core.child_process import die_with_parent
from kojin.core.config import Settings

_service = None
_batch = None
_batch_failed = False


def _start(settings: Settings, parent_pid: int) -> None:
    global _service
    die_with_parent(parent_pid)
    from kojin.core.db import Database
    from kojin.numbering.service import NumberingService

    _service = NumberingService(Database(settings).engine("numbering"))


def _issue_persons(count: int) -> list[tuple[str, str]]:
    assert _service is not None
    return _service.issue_persons(count)


def _batch_persons(count: int) -> list[tuple[str, str]]:
    global _batch, _batch_failed
    assert _service is not None
    if _batch_failed:
        # An earlier part failed and was rolled back: the parts queued behind it
        # must not start a second transaction that the commit would then keep.
        raise RuntimeError("numbering batch abandoned after an earlier part failed")
    if _batch is None:
        _batch = _service.open_batch()
    try:
        return _batch.persons(count)
    except BaseException:
        batch, _batch = _batch, None
        _batch_failed = True
        batch.rollback()
        raise


def _checkpoint() -> None:
    assert _service is not None
    _service.checkpoint()


def _end_batch(commit: bool) -> None:
    global _batch, _batch_failed
    batch, _batch = _batch, None
    failed, _batch_failed = _batch_failed, False
    if commit and failed:
        raise RuntimeError("numbering batch was rolled back; nothing to commit")
    if batch is None:
        return
    if commit:
        batch.commit()
    else:
        batch.rollback()


class NumberingProcess:
    """A numbering service in a child process; every call returns a future."""

    def __init__(self, settings: Settings) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(settings, os.getpid()),
        )

    def submit(self, count: int) -> Future[list[tuple[str, str]]]:
        """Ask for ``count`` new people's codes and numbers, committed on their own."""
        return self._pool.submit(_issue_persons, count)

    def submit_batch(self, counts: list[int]) -> list[Future[list[tuple[str, str]]]]:
        """The parts of one J-LIS transaction, numbered in order while the caller works.

        The parts' pairs arrive before J-LIS has committed them: build on them
        freely, but commit nothing that holds them before :meth:`commit_batch`
        has returned; on any failure call :meth:`abandon_batch`.
        """
        return [self._pool.submit(_batch_persons, n) for n in counts]

    def commit_batch(self) -> None:
        """Commit the open batch at J-LIS; returns once it is durable."""
        self._pool.submit(_end_batch, True).result()

    def abandon_batch(self) -> None:
        """Roll back the open batch (after the caller gave up on it)."""
        self._pool.submit(_end_batch, False).result()

    def checkpoint(self) -> None:
        """After a bulk job: J-LIS folds its WAL into its store."""
        self._pool.submit(_checkpoint).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
