"""Bulk enrolment (一斉付番): many households at once, batch after batch.

Each batch is one register transaction and one J-LIS transaction. J-LIS hands
out codes and numbers part by part (:data:`ENROL_PART` people at a time) —
in this process, or in a numbering process of its own that works on the next
part while the register writes this one and starts the next batch while the
register commits this one. J-LIS commits a batch before the register does, so
the register never holds a code J-LIS has not durably numbered; a failed
batch is rolled back at both.

A named job (``run``) records how many households and people it has enrolled
in each batch's own register transaction; :func:`enrolment_progress` reads it
back, so a job killed half-way is resumed after its last committed batch and
enrols nobody twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine, insert, select, update

from kojin.core.db import bulk_checkpoints, checkpoint
from kojin.numbering.process import NumberingProcess
from kojin.numbering.service import IssueBatch, NumberingService
from kojin.registry import records
from kojin.registry.checks import check_details
from kojin.registry.domain import PersonDetails
from kojin.registry.store import enrolment_runs

__all__ = ["ENROL_PART", "Enrolment", "HouseholdDraft", "enrolment_progress"]

# Residents per part of a bulk batch handed to J-LIS at a time.
ENROL_PART = 10000

_Check = Callable[[PersonDetails], PersonDetails] | None


@dataclass(frozen=True)
class HouseholdDraft:
    """A household to enrol at once: members in order, the head first."""

    members: Sequence[tuple[PersonDetails, str]]


@dataclass
class _EnrolBatch:
    """One bulk batch being enrolled: its people in order and its J-LIS parts."""

    drafts: list[HouseholdDraft]
    people: list[tuple[PersonDetails, str, int]]
    identities: Iterator[list[tuple[str, str]]] | None = None

    @staticmethod
    def of(drafts: Sequence[HouseholdDraft]) -> _EnrolBatch:
        drafts = list(drafts)
        return _EnrolBatch(drafts, [(d, rel, h) for h, draft in enumerate(drafts) for d, rel in draft.members])

    def check(self, check: _Check) -> None:
        if check is not None:
            self.people = [(check(d), rel, h) for d, rel, h in self.people]

    @property
    def parts(self) -> list[tuple[int, int]]:
        return [(lo, min(lo + ENROL_PART, len(self.people))) for lo in range(0, len(self.people), ENROL_PART)]

    def part_sizes(self) -> list[int]:
        return [hi - lo for lo, hi in self.parts]


def enrolment_progress(engine: Engine, run: str) -> tuple[int, int]:
    """The households and people the job ``run`` has enrolled so far (committed batches only)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(enrolment_runs.c.households, enrolment_runs.c.people).where(enrolment_runs.c.run == run)
        ).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def _record_progress(conn: Connection, run: str, households: int, people: int) -> None:
    """Add one batch to ``run``'s progress, inside that batch's transaction."""
    now = datetime.now(UTC)
    added = conn.execute(
        update(enrolment_runs)
        .where(enrolment_runs.c.run == run)
        .values(
            households=enrolment_runs.c.households + households,
            people=enrolment_runs.c.people + people,
            updated_at=now,
        )
    ).rowcount
    if not added:
        conn.execute(insert(enrolment_runs).values(run=run, households=households, people=people, updated_at=now))


@dataclass(frozen=True)
class _Where:
    """What every batch of one job is written with."""

    municipality_code: str
    clerk: str
    today: date
    run: str | None


class _NumberSource(Protocol):
    """Where a bulk batch's (住民票コード, number) pairs come from: J-LIS, in this process or its own."""

    def start(self, sizes: list[int]) -> Iterator[list[tuple[str, str]]]: ...

    def commit(self) -> None: ...

    def abandon(self) -> None: ...

    def finish(self) -> None: ...


class _InProcessNumbers:
    def __init__(self, numbering: NumberingService) -> None:
        self._numbering = numbering
        self._batch: IssueBatch | None = None

    def start(self, sizes: list[int]) -> Iterator[list[tuple[str, str]]]:
        batch = self._batch = self._numbering.open_batch()
        return (batch.persons(n) for n in sizes)

    def commit(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.commit()

    def abandon(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.rollback()

    def finish(self) -> None:
        self._numbering.checkpoint()


class _ProcessNumbers:
    def __init__(self, process: NumberingProcess) -> None:
        self._process = process

    def start(self, sizes: list[int]) -> Iterator[list[tuple[str, str]]]:
        return (f.result() for f in self._process.submit_batch(sizes))

    def commit(self) -> None:
        self._process.commit_batch()

    def abandon(self) -> None:
        self._process.abandon_batch()

    def finish(self) -> None:
        self._process.checkpoint()


class Enrolment:
    """Enrols batches of household drafts, numbering everyone through J-LIS."""

    def __init__(self, engine: Engine, numbering: NumberingService) -> None:
        self.engine = engine
        self.numbering = numbering

    def enroll_batches(
        self,
        batches: Iterable[Sequence[HouseholdDraft]],
        *,
        municipality_code: str,
        clerk: str = "seed",
        today: date | None = None,
        validated: bool = False,
        numbering_process: NumberingProcess | None = None,
        on_batch: Callable[[int], None] | None = None,
        run: str | None = None,
    ) -> int:
        """Enrol batch after batch; ``validated`` skips the per-person checks, ``on_batch`` is told
        the running total, ``run`` names the job whose progress each batch records.
        Returns how many people were enrolled."""
        today = today or date.today()
        source: _NumberSource = (
            _ProcessNumbers(numbering_process) if numbering_process is not None else _InProcessNumbers(self.numbering)
        )
        check = None if validated else (lambda d: check_details(d, municipality_code, today))
        upcoming = (b for b in map(_EnrolBatch.of, batches) if b.people)
        enrolled = 0
        current = next(upcoming, None)
        if current is not None:
            current.check(check)
            current.identities = source.start(current.part_sizes())
        with self.engine.connect() as conn:
            # One connection for the whole job, whose commits leave the WAL to
            # be checkpointed every few batches instead of at each one.
            bulk_checkpoints(conn, True)
            try:
                while current is not None:
                    after = self._enrol_one(
                        conn, current, upcoming, source, check, _Where(municipality_code, clerk, today, run)
                    )
                    enrolled += len(current.people)
                    if on_batch is not None:
                        on_batch(enrolled)
                    current = after
            finally:
                bulk_checkpoints(conn, False)
        if enrolled:
            checkpoint(self.engine)
            source.finish()
        return enrolled

    def _enrol_one(
        self,
        conn: Connection,
        current: _EnrolBatch,
        upcoming: Iterator[_EnrolBatch],
        source: _NumberSource,
        check: _Check,
        where: _Where,
    ) -> _EnrolBatch | None:
        """Write and commit ``current``; returns the next batch, already being numbered."""
        settled = started_next = False
        try:
            after = next(upcoming, None)
            with conn.begin():
                assert current.identities is not None
                records.insert_enrolment(
                    conn,
                    current.people,
                    len(current.drafts),
                    current.parts,
                    current.identities,
                    municipality_code=where.municipality_code,
                    clerk=where.clerk,
                    today=where.today,
                )
                if where.run is not None:
                    _record_progress(conn, where.run, len(current.drafts), len(current.people))
                # J-LIS's numbers are durable before the register holds their codes.
                settled = True
                source.commit()
                if after is not None:
                    # J-LIS needs only the next batch's size: it numbers that
                    # batch while the register commits this one.
                    after.identities = source.start(after.part_sizes())
                    started_next = True
            if after is not None:
                # Checked once this batch is committed: a bad record there
                # stops enrolment at that batch without undoing this one.
                after.check(check)
        except BaseException:
            if not settled or started_next:
                source.abandon()
            raise
        return after
