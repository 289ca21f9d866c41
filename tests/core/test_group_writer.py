"""kojin.core.group_writer: the writer thread's lifecycle, apart from any store."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kojin.core.group_writer import GroupWriter, WriterClosed


class _Piece:
    def __init__(self, name: str) -> None:
        self.name = name
        self.error: BaseException | None = None
        self.done = threading.Event()


class _Recorder(GroupWriter[_Piece]):
    """Commits by remembering each batch's names; optionally answers a batch only at the next one."""

    def __init__(self, *, defer: bool = False, fail_on: str | None = None) -> None:
        super().__init__("test-group-writer")
        self.batches: list[list[str]] = []
        self._defer = defer
        self._fail_on = fail_on
        self._held: list[_Piece] | None = None
        self.failing = threading.Event()
        self.let_fail = threading.Event()

    def _commit_batch(self, batch: list[_Piece]) -> None:
        if any(piece.name == self._fail_on for piece in batch):
            self.failing.set()
            self.let_fail.wait(5)
            raise RuntimeError("the writer dies")
        self.batches.append([piece.name for piece in batch])
        if self._held is not None:
            self._answer_deferred()
        if self._defer:
            self._held = batch
        else:
            self._answer(batch)

    def _answer(self, batch: list[_Piece]) -> None:
        for piece in batch:
            piece.done.set()

    def _answers_deferred(self) -> bool:
        return self._held is not None

    def _answer_deferred(self) -> None:
        held, self._held = self._held, None
        assert held is not None
        self._answer(held)

    def add(self, name: str, *, end_of_pass: bool = False) -> _Piece:
        piece = _Piece(name)
        self._enqueue(piece, end_of_pass=end_of_pass)
        return piece


def test_the_thread_starts_on_first_use_and_close_refuses_more() -> None:
    writer = _Recorder()
    assert writer._thread is None
    piece = writer.add("a")
    assert piece.done.wait(5) and piece.error is None
    writer.close()
    writer.close()
    with pytest.raises(WriterClosed):
        writer.add("b")
    assert writer.batches == [["a"]]


def test_a_writer_never_used_closes_without_a_thread() -> None:
    writer = _Recorder()
    writer.close()
    assert writer._thread is None


def test_what_one_loop_pass_queues_shares_one_batch() -> None:
    writer = _Recorder()

    async def main() -> list[_Piece]:
        pieces = [writer.add(str(i), end_of_pass=True) for i in range(5)]
        await asyncio.sleep(0)  # the pass ends: the writer is woken once
        return pieces

    pieces = asyncio.run(main())
    assert all(piece.done.wait(5) for piece in pieces)
    writer.close()
    assert writer.batches == [["0", "1", "2", "3", "4"]]


def test_deferred_answers_are_given_when_idle_and_before_stopping() -> None:
    writer = _Recorder(defer=True)
    first = writer.add("a")
    assert first.done.wait(5)  # nothing else came: the writer answers while idle
    second = writer.add("b")
    writer.close()
    assert second.done.is_set()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_work_left_when_the_writer_dies_is_told_so() -> None:
    writer = _Recorder(fail_on="boom")
    writer.add("boom")
    assert writer.failing.wait(5)
    left = writer.add("left")  # queued while the writer is on its last batch
    writer.let_fail.set()
    assert left.done.wait(5)
    assert isinstance(left.error, WriterClosed)
    assert writer._thread is not None
    writer._thread.join(5)
    with pytest.raises(WriterClosed):
        writer.add("more")
