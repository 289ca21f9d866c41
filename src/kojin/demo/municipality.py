"""A whole demo municipality: synthetic households enrolled through the register, then insured.

``kojin seed`` and ``kojin up`` call :func:`seed_municipality`; the people come from
:mod:`kojin.demo.population` and go through the same bulk enrolment (一斉付番) a
municipality would use, J-LIS numbering each of them.
"""

from __future__ import annotations

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


def seed_municipality(
    kojin: Kojin,
    residents: int,
    municipality: str,
    seed: int,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Enrol ``residents`` synthetic people in ``municipality`` and give each an insurer; returns how many."""
    from kojin.demo.insurance import enrol_population
    from kojin.numbering.process import NumberingProcess
    from kojin.registry import postal

    postal.municipality(municipality)
    households = generate_households(municipality, residents, seed=seed, today=date.today())
    numbering = NumberingProcess(kojin.settings) if residents >= NUMBERING_PROCESS_FROM else None
    try:
        enrolled = kojin.register.enroll_batches(
            household_batches(households),
            municipality_code=municipality,
            validated=True,
            numbering_process=numbering,
            on_batch=on_progress,
        )
    finally:
        if numbering is not None:
            numbering.close()
    # Every resident gets an insurer, a 資格確認書, claims and check-ups.
    enrol_population(kojin, seed=seed)
    return enrolled
