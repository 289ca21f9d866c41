"""The single writer thread of a store with group commit (グループコミット).

Work that must be durable before its caller is answered (rows of the §23
logs, leaves of the exchange log, spent challenge nonces) would otherwise
cost one fsync each, which caps a store at a few hundred writes a second. A
:class:`GroupWriter` gives one store a single writer thread:

1. A caller adds its work to the *open batch* and waits (or is told later).
   The first caller of a batch wakes the writer.
2. The writer swaps the open batch for a fresh one (callers arriving now queue
   for the next commit), hands the batch to :meth:`GroupWriter._commit_batch`
   — one transaction, one fsync for all of it — which answers the callers.

There is no timer: while one commit is in flight the next batch fills by
itself, so a lone caller waits for one commit and a crowd shares them.

A caller on an event loop that does not block may ask to wake the writer at
the end of the loop's pass instead (``end_of_pass``): the first one in a pass
schedules the wake-up, so everything the loop's ready tasks queue in one pass
shares one commit and one wake-up, instead of the writer starting on the first
piece of work and the rest waiting for the next commit. A caller that blocks
after all calls :meth:`GroupWriter._start_now`, so that it cannot wait for a
pass that never ends.

A writer with ``linger`` waits that long after being woken by work nobody
waits for (``waited=False``: a derived record that is rebuilt after a crash),
so that such work shares fewer commits; work someone waits for cuts it short.

This module owns only that lifecycle — the thread started on first use, the
wake-up rule, batching, :meth:`~GroupWriter.close`, and the errors given to
callers of a closed writer or of work left when the writer stops. What a batch
is written as, and how callers are answered, are the subclass's:
:class:`kojin.core.group_commit.GroupCommit` (rows of any table),
:class:`kojin.auth.single_use.UsedChallenges` (nonces, each caller told whether
its own was new) and the exchange log's writer (:mod:`kojin.audit.writer`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Generic, Protocol, TypeVar

from kojin.core import reasons
from kojin.core.reasons import WriterClosed

__all__ = ["GroupWriter", "Work", "WriterClosed"]


class Work(Protocol):
    """One caller's share of a batch; ``error`` is what the caller is told went wrong."""

    error: BaseException | None


W = TypeVar("W", bound=Work)


class GroupWriter(Generic[W]):
    """The lifecycle of one store's writer thread; subclasses write and answer the batches."""

    def __init__(self, name: str, *, linger: float = 0.0) -> None:
        self._name = name
        self._linger = linger
        self._cv = threading.Condition(threading.Lock())
        self._open: list[W] = []
        self._go = False  # the open batch may be committed (someone asked, or a loop's pass ended)
        self._waited = False  # someone in the open batch waits for it: no lingering
        # The event loop that will say go at the end of its pass. Kept per loop: a
        # loop closed before it ran its wake-up must not hold off every other.
        self._kick_due: asyncio.AbstractEventLoop | None = None
        self._closing = False
        # Started on first use: a store nobody writes to costs no thread.
        self._thread: threading.Thread | None = None
        self._commits = 0

    @property
    def commit_count(self) -> int:
        """Transactions committed so far: work / commits is the mean group size."""
        return self._commits

    # -- what differs between writers -------------------------------------------

    def _commit_batch(self, batch: list[W]) -> None:
        """Write ``batch`` (on the writer thread) and answer its callers, each with its own error if any."""
        raise NotImplementedError

    def _answer(self, batch: list[W]) -> None:
        """Wake the callers of ``batch``, whose results (or ``error``) are final."""
        raise NotImplementedError

    def _closed_error(self) -> BaseException:
        """Raised to a caller arriving after :meth:`close`."""
        return reasons.STORE_WRITER_CLOSED.error()

    def _stopped_error(self) -> BaseException:
        """Given to each caller whose work was queued when the writer stopped."""
        return reasons.STORE_WRITER_CLOSED.error()

    def _answers_deferred(self) -> bool:
        """True while callers of a committed batch are still to be answered (see :meth:`_answer_deferred`)."""
        return False

    def _answer_deferred(self) -> None:
        """Answer them: the writer does so when no batch is ready, and before it stops."""

    def _writer_stopping(self) -> None:
        """Release what the writer thread holds (its connection), on that thread."""

    # -- callers ----------------------------------------------------------------

    def _enqueue(self, work: W, *, waited: bool = True, end_of_pass: bool = False) -> None:
        """Add ``work`` to the open batch and wake the writer as the wake-up rule says.

        ``waited``: a caller waits for this work (no lingering). ``end_of_pass``:
        called on a running event loop, wake the writer at the end of the loop's
        pass rather than now.
        """
        loop = asyncio._get_running_loop() if end_of_pass else None
        with self._cv:
            if self._closing:
                raise self._closed_error()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._open.append(work)
            lingering = False
            if waited and not self._waited:
                self._waited = True
                # The writer may be lingering over work nobody waits for: cut it short.
                lingering = self._go and self._linger > 0
            if loop is None:
                if not self._go or lingering:
                    self._go = True
                    self._cv.notify()
                return
            schedule = self._kick_due is not loop
            self._kick_due = loop
        if schedule:
            loop.call_soon(self._kick, loop)

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        """The end of an event loop's pass: commit what it queued."""
        with self._cv:
            if self._kick_due is loop:
                self._kick_due = None
            # Only with work open: a go left standing over an empty batch
            # would let the next work in without anyone waking the writer.
            # With go already said, only a lingering writer needs telling
            # that the batch is now waited for.
            if self._open and (not self._go or (self._waited and self._linger > 0)):
                self._go = True
                self._cv.notify()

    def _start_now(self) -> None:
        """Someone blocks on the open batch after all: commit it without waiting for a loop's pass."""
        with self._cv:
            if self._open and not (self._go and self._waited):
                self._go = self._waited = True
                self._cv.notify()

    def close(self) -> None:
        """Commit what callers already wait for, then stop the writer."""
        with self._cv:
            self._closing = True
            self._cv.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    # -- the writer thread ------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._cv:
                    while not (self._open and self._go) and not self._closing and not self._answers_deferred():
                        self._cv.wait()
                    if self._linger and not self._waited and not self._closing:
                        # Only work nobody waits for so far: let more join this
                        # commit, until someone waits for it (or close).
                        deadline = time.monotonic() + self._linger
                        while not self._waited and not self._closing:
                            left = deadline - time.monotonic()
                            if left <= 0:
                                break
                            self._cv.wait(left)
                    if self._open and (self._go or self._closing):
                        batch, self._open, self._waited, self._go = self._open, [], False, False
                    else:
                        batch = []  # nothing to commit yet: answer what is durable
                if batch:
                    self._commit_batch(batch)
                elif self._answers_deferred():
                    self._answer_deferred()
                else:
                    return  # closing, and everything is answered
        finally:
            # Should the loop ever die, nobody may wait forever on work that no
            # thread will commit.
            if self._answers_deferred():
                self._answer_deferred()
            self._writer_stopping()
            with self._cv:
                self._closing = True
                orphans, self._open = self._open, []
            if orphans:
                for work in orphans:
                    work.error = self._stopped_error()
                self._answer(orphans)
