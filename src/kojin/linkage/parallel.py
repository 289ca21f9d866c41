"""Matching a long member list on forked worker processes (並列照合).

This process is one of the workers: it forks the others, which inherit the
index and the members copy-on-write, and all of them take the next slice of
members from a shared counter until none is left. It is apart from the index
and the service because it is process machinery: module state the children
inherit, packing results into plain tuples, and the collector kept away from
the index.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.queues
import os
import queue
from collections.abc import Callable, Sequence
from typing import Any

from kojin.core.child_process import die_with_parent
from kojin.linkage.matcher import Matcher
from kojin.linkage.records import Candidate, Decision, MatchResult, MemberRecord, Reason, ReasonItem
from kojin.linkage.refresh import no_gc

__all__ = ["match_many"]

_PARALLEL_FROM = 20_000

# Worker processes inherit the matcher and the members by fork; only plain tuples
# travel back, because unpickling dataclasses in the parent would cost more than matching.
_WORK: tuple[Matcher, Sequence[MemberRecord]] | None = None
_DECISIONS = tuple(Decision)
_Packed = tuple[
    int, int | None, float | None, tuple[tuple[str, str | None], ...], tuple[tuple[Any, ...], ...], str | None
]
_Progress = Callable[[int], None] | None


def _pack(result: MatchResult) -> _Packed:
    return (
        _DECISIONS.index(result.decision),
        result.resident_id,
        result.score,
        tuple((r.code.value, r.field) for r in result.reasons),
        tuple(
            (c.resident_id, c.score, c.levels, c.via_old_name, c.via_old_address, c.kanji_exact, c.kana_exact, c.status)
            for c in result.candidates
        ),
        result.address_level,
    )


def _unpack(member: MemberRecord, packed: _Packed) -> MatchResult:
    decision, resident_id, score, reasons, candidates, address_level = packed
    return MatchResult(
        member,
        _DECISIONS[decision],
        resident_id,
        score,
        tuple(ReasonItem(Reason(c), f) for c, f in reasons),
        tuple(Candidate(*c) for c in candidates),
        address_level,
    )


def _take(counter: Any) -> int:
    """The next slice's number, shared by every worker."""
    with counter.get_lock():
        n = int(counter.value)
        counter.value = n + 1
    return n


def _worker(counter: Any, ranges: Sequence[tuple[int, int]], results: Any, parent_pid: int) -> None:
    die_with_parent(parent_pid)  # a killed matching run leaves no worker behind
    assert _WORK is not None
    matcher, members = _WORK
    while (n := _take(counter)) < len(ranges):
        results.put((n, [_pack(matcher.match(members[i])) for i in range(*ranges[n])]))
    results.close()
    results.join_thread()


def match_many(
    matcher: Matcher, members: Sequence[MemberRecord], *, workers: int | None = None, progress: _Progress = None
) -> list[MatchResult]:
    """Decisions for many members on ``workers`` processes (2 by default for big lists)."""
    # The index is millions of long-lived objects and the results a million
    # more, none of them in reference cycles: the cyclic collector would walk
    # them over and over (half the time of a million-member run) and, in forked
    # workers, touch and so copy every page of the index. So it is frozen out
    # of the collector's sight and paused while matching.
    gc.freeze()
    try:
        with no_gc():
            return _match_many(matcher, members, workers, progress)
    finally:
        gc.unfreeze()


def _match_many(
    matcher: Matcher, members: Sequence[MemberRecord], workers: int | None, progress: _Progress
) -> list[MatchResult]:
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(members) >= _PARALLEL_FROM else 1
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        workers = 1
    step = max(500, min(5000, len(members) // (workers * 16) + 1))
    ranges = [(i, min(i + step, len(members))) for i in range(0, len(members), step)]
    if workers <= 1:
        parts: list[list[MatchResult] | None] = [None] * len(ranges)
        done = 0
        for n, bounds in enumerate(ranges):
            parts[n] = [matcher.match(members[i]) for i in range(*bounds)]
            done += bounds[1] - bounds[0]
            if progress:
                progress(done)
        return [r for part in parts if part is not None for r in part]
    return _forked(matcher, members, workers, ranges, progress)


def _forked(
    matcher: Matcher,
    members: Sequence[MemberRecord],
    workers: int,
    ranges: list[tuple[int, int]],
    progress: _Progress,
) -> list[MatchResult]:
    global _WORK
    parts: list[list[MatchResult] | None] = [None] * len(ranges)
    done = 0
    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    results: multiprocessing.queues.Queue[tuple[int, list[_Packed]]] = context.Queue()
    _WORK = (matcher, members)
    children = [
        context.Process(target=_worker, args=(counter, ranges, results, os.getpid()), daemon=True)
        for _ in range(workers - 1)
    ]
    try:
        for child in children:
            child.start()

        def collect(block: bool) -> None:
            """Take the other workers' finished slices: all that are ready, or (blocking) the next one."""
            nonlocal done
            while True:
                try:
                    n, packed = results.get(timeout=1.0) if block else results.get_nowait()
                except queue.Empty:
                    if not block:
                        return
                    if not any(child.is_alive() for child in children) and results.empty():
                        raise RuntimeError("a matching worker stopped before finishing") from None
                    continue
                bounds = ranges[n]
                parts[n] = [_unpack(members[i], p) for i, p in zip(range(*bounds), packed, strict=True)]
                done += bounds[1] - bounds[0]
                if progress:
                    progress(done)
                if block:
                    return

        while (n := _take(counter)) < len(ranges):
            bounds = ranges[n]
            parts[n] = [matcher.match(members[i]) for i in range(*bounds)]
            done += bounds[1] - bounds[0]
            if progress:
                progress(done)
            collect(block=False)
        while any(p is None for p in parts):
            collect(block=True)
    finally:
        _WORK = None
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()
    return [r for part in parts if part is not None for r in part]
