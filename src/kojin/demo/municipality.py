"""A whole demo municipality: synthetic households enrolled through the register, then insured.

``kojin seed`` and ``kojin up`` call :func:`seed_municipality`; the people come from
:mod:`kojin.demo.population` and go through the same bulk enrolment (一斉付番) a
municipality would use, J-LIS numbering each of them.

A seed run is a named enrolment job (``seed:<municipality>:<seed>:<residents>``):
each batch records its progress in the register's own transaction, so the same
command after a crash or a kill resumes after the last committed batch, and
run again once finished it enrols nobody. The same arguments give the same
households, so the ones skipped are exactly the ones already enrolled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from kojin.app import Kojin
from kojin.demo.population import generate_households
from kojin.registry.service import HouseholdDraft

SEED_BATCH = 20_000
"""People per register transaction."""

NUMBERING_PROCESS_FROM = 200_000
"""From this many people J-LIS numbers in a process of its own, on the second core;
for fewer, starting that process costs more than it saves."""


def household_batches(households: Iterable[HouseholdDraft], people: int = SEED_BATCH) -> Iterator[list[HouseholdDraft]]:
    """Whole households in batches of at least ``people`` residents (the last one smaller)."""
    batch: list[HouseholdDraft] = []
    size = 0
    for household in households:
        batch.append(household)
        size += len(household.members)
        if size >= people:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def seed_run(municipality: str, seed: int, residents: int) -> str:
    """The enrolment job a seed run is recorded under."""
    return f"seed:{municipality}:{seed}:{residents}"


def seed_municipality(
    kojin: Kojin,
    residents: int,
    municipality: str,
    seed: int,
    *,
    on_progress: Callable[[int], None] | None = None,
    batch: int = SEED_BATCH,
    numbering_process: bool | None = None,
) -> int:
    """Enrol ``residents`` synthetic people in ``municipality`` and give each an insurer; returns how many
    the run has enrolled in all (this call and any earlier, interrupted one).

    ``batch`` is people per register transaction; ``numbering_process`` runs J-LIS in a process of its
    own (by default from :data:`NUMBERING_PROCESS_FROM` people).
    """
    from kojin.demo.insurance import enrol_population
    from kojin.numbering.process import NumberingProcess
    from kojin.registry import postal

    postal.municipality(municipality)
    run = seed_run(municipality, seed, residents)
    households_done, people_done = kojin.register.enrolment_progress(run)
    if on_progress is not None and people_done:
        on_progress(people_done)
    households = generate_households(municipality, residents, seed=seed, today=date.today())
    remaining = itertools.islice(households, households_done, None)
    if numbering_process is None:
        numbering_process = residents - people_done >= NUMBERING_PROCESS_FROM
    numbering = NumberingProcess(kojin.settings) if numbering_process and people_done < residents else None
    try:
        enrolled = kojin.register.enroll_batches(
            household_batches(remaining, batch),
            municipality_code=municipality,
            validated=True,
            numbering_process=numbering,
            on_batch=None if on_progress is None else (lambda total: on_progress(people_done + total)),
            run=run,
        )
    finally:
        if numbering is not None:
            numbering.close()
    # Every resident gets an insurer, a 資格確認書, claims and check-ups (idempotent too).
    enrol_population(kojin, seed=seed)
    return people_done + enrolled
