"""Seeding insurance for a synthetic municipality: who goes where, claims, check-ups, certificates."""

from __future__ import annotations

from collections import Counter
from datetime import date

from kojin.app import Kojin
from kojin.core.japan import age_on
from kojin.demo.insurance import drugs, enrol_population, plan_households
from kojin.demo.population import generate_households
from kojin.eligibility.domain import InsurerKind
from kojin.registry.domain import Resident, Status

TODAY = date(2026, 11, 24)


def test_seeding_gives_everyone_one_insurer_by_age_and_household(kojin: Kojin) -> None:
    kojin.register.enroll_households(
        list(generate_households("13105", 400, seed=3, today=TODAY)),
        municipality_code="13105",
        validated=True,
        today=TODAY,
    )
    residents = list(kojin.register.iter_residents(status=Status.RESIDENT))
    households: dict[int, list[Resident]] = {}
    for r in residents:
        households.setdefault(r.household_id, []).append(r)
    plan = plan_households(households.values(), TODAY, 3)
    planned = [(kind, d, r) for kind, entries in plan.items() for d, r in entries]
    assert sorted(r.resident_id for _k, _d, r in planned) == sorted(r.resident_id for r in residents)
    for kind, draft, r in planned:
        age = age_on(r.birth_date, TODAY)
        assert (kind is InsurerKind.LATE_ELDERLY) == (age >= 75)
        if draft.family:
            assert kind in (InsurerKind.SOCIETY, InsurerKind.KYOKAI) and draft.insured_index is not None
            insured = plan[kind][draft.insured_index][1]
            assert insured.household_id == r.household_id
        if 70 <= age < 75:
            assert draft.elderly is not None and draft.ratio in (20, 30)
    kinds = Counter(kind for kind, _d, _r in planned)
    assert all(kinds[k] for k in InsurerKind)

    counts = enrol_population(kojin, today=TODAY, seed=3)
    assert sum(counts.values()) == len(residents)
    totals = kojin.eligibility.counts()
    assert totals["qualifications"] == len(residents)
    assert totals["medications"] > len(residents) and totals["checkups"] > 0
    assert totals["registrations"] == 0  # nobody had a card: everybody got a 資格確認書
    codes = {d.code for entries in drugs().values() for d in entries}
    meds = kojin.eligibility.medications(
        [kojin.eligibility.patient(r.juminhyo_code).memberships[0] for r in residents[:1]][:1]
    )
    assert all(m.drug_code in codes for m in meds)
    nhi = kojin.insurers.get("13105")
    assert nhi.count() == kinds[InsurerKind.NHI]
    # Run again: nobody is enrolled twice.
    assert enrol_population(kojin, today=TODAY, seed=3) == {}
    assert kojin.eligibility.counts()["qualifications"] == len(residents)
