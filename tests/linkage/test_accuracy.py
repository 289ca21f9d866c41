"""A few thousand synthetic members with insurers' noise: no wrong link, nearly all the linkable linked.

Beside it, the real system's rule (kana + birth date + sex, first hit) on the
same rows makes wrong links — the reason this service exists.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import jaconv

from kojin.app import Kojin
from kojin.demo.population import generate_households
from kojin.linkage.matcher import Decision, MemberRecord
from kojin.linkage.normalise import kana_strict
from kojin.registry import postal
from kojin.registry.domain import Address, PersonDetails, Resident, Status
from kojin.registry.service import HouseholdDraft

TODAY = date(2026, 1, 15)
WARDS = ("13105", "13104")
SEP = "\u3000"
PLAIN = {
    "髙": "高",
    "﨑": "崎",
    "邊": "辺",
    "邉": "辺",
    "齋": "斎",
    "齊": "斉",
    "濵": "浜",
    "濱": "浜",
    "𠮷": "吉",
    "\U000e0100": "",
}
KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロ"


def _line(rng: random.Random, a: Address, drop: bool = False) -> str:
    numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in a.block).split()]
    if drop:
        numbers = numbers[:-1]
    form = rng.random()
    block = a.block if form < 0.4 and not drop else "-".join(map(str, numbers))
    if form > 0.8:
        block = jaconv.h2z(block, digit=True, ascii=True).replace("-", "－")
    building = f" {a.building}" if a.building and rng.random() < 0.6 else ""
    return f"{a.prefecture}{a.city}{a.town}{block}{building}"


def _member(rng: random.Random, n: int, p: Resident, **change: object) -> MemberRecord:
    name = "".join(PLAIN.get(ch, ch) for ch in str(change.get("name", p.name)))
    kana = str(change.get("kana", p.kana))
    if rng.random() < 0.2:
        kana = jaconv.z2h(kana, kana=True, ascii=False, digit=False)
    address = change.get("address", p.address)
    assert isinstance(address, Address)
    born = change.get("birth", p.birth_date)
    assert isinstance(born, date)
    return MemberRecord(
        f"M{n:05d}", name, kana, p.sex, born, address.postal_code, _line(rng, address, bool(change.get("drop")))
    )


def test_no_wrong_links_on_noisy_synthetic_members(kojin: Kojin) -> None:
    rng = random.Random(11)
    for i, ward in enumerate(WARDS):
        kojin.register.enroll_households(
            generate_households(ward, 2500, seed=40 + i, today=TODAY),
            municipality_code=ward,
            today=TODAY,
            validated=True,
        )
    people = list(kojin.register.iter_residents(status=Status.RESIDENT))
    households: dict[int, list[Resident]] = {}
    for p in people:
        households.setdefault(p.household_id, []).append(p)
    chosen = rng.sample(people, 3000)
    rows: list[tuple[MemberRecord, int | None, str]] = []
    # Unrelated people with another's name, birth date and sex: some in the register, some not.
    doubles = chosen[:25]
    for p in doubles:
        area = rng.choice(postal.areas_in(p.municipality_code))
        details = PersonDetails(
            p.name,
            p.kana,
            p.sex,
            p.birth_date,
            Address(area.postal_code, area.prefecture, area.city, area.town, "9丁目9番9号"),
        )
        kojin.register.enroll_households(
            [HouseholdDraft([(details, "世帯主")])], municipality_code=p.municipality_code, today=TODAY, validated=True
        )
    for n, p in enumerate(chosen[25:], start=1):
        r = rng.random()
        if r < 0.01:  # moved; the insurer has the old address
            area = rng.choice(postal.areas_in(p.municipality_code))
            kojin.register.move_within(p.resident_id, Address(area.postal_code, "", "", area.town, "1丁目1番1号"))
            rows.append((_member(rng, n, p), p.resident_id, "moved"))
        elif r < 0.015 and SEP in p.name and p.age_on(TODAY) >= 20:  # married; the insurer has the old name
            kojin.register.change_name(
                p.resident_id, name="新田" + SEP + p.name.split(SEP)[1], kana="ニッタ" + SEP + p.kana.split(SEP)[-1]
            )
            rows.append((_member(rng, n, p), p.resident_id, "renamed"))
        elif r < 0.025:  # a family member's birth date on this line
            others = [o for o in households[p.household_id] if o.birth_date != p.birth_date]
            if others:
                rows.append((_member(rng, n, p, birth=others[0].birth_date), p.resident_id, "wrong_line"))
            else:
                rows.append((_member(rng, n, p), p.resident_id, "linkable"))
        elif r < 0.035:  # not in this register at all
            rows.append(
                (
                    _member(rng, n, p, address=Address("5300001", "大阪府", "大阪市北区", "梅田", "1丁目1番1号")),
                    None,
                    "elsewhere",
                )
            )
        elif r < 0.06:  # a kana typo
            i = rng.randrange(len(p.kana))
            kana = p.kana if p.kana[i] == SEP else p.kana[:i] + rng.choice(KANA) + p.kana[i + 1 :]
            rows.append((_member(rng, n, p, kana=kana), p.resident_id, "linkable"))
        elif r < 0.08:  # 号 left out
            rows.append((_member(rng, n, p, drop=True), p.resident_id, "linkable"))
        else:
            rows.append((_member(rng, n, p), p.resident_id, "linkable"))
    newest = {
        (q.name, q.birth_date): q.resident_id
        for q in kojin.register.iter_residents(after=max(p.resident_id for p in people))
    }
    for n, p in enumerate(doubles, start=5000):
        double = kojin.register.get(newest[(p.name, p.birth_date)])
        rows.append((_member(rng, n, double), double.resident_id, "linkable"))

    kojin.matching.refresh_index()
    results = kojin.matching.match_many([m for m, _, _ in rows], workers=1)
    # Two processes (this one and a fork) give the same answers in the same order.
    seen: list[int] = []
    parallel = kojin.matching.match_many([m for m, _, _ in rows], workers=2, progress=seen.append)
    assert [(r.member, r.decision, r.resident_id, r.reasons) for r in parallel] == [
        (r.member, r.decision, r.resident_id, r.reasons) for r in results
    ]
    assert seen == sorted(seen) and seen[-1] == len(rows)
    outcome: Counter[tuple[str, str]] = Counter()
    for (member, truth, kind), result in zip(rows, results, strict=True):
        if result.decision is Decision.LINKED:
            assert result.resident_id == truth, (kind, member, result)
        outcome[(kind, result.decision.value)] += 1
    linkable = sum(v for (k, _), v in outcome.items() if k == "linkable")
    assert outcome[("linkable", "linked")] / linkable >= 0.97, outcome
    for kind in ("moved", "renamed", "wrong_line", "elsewhere"):
        assert outcome[(kind, "linked")] == 0, outcome

    # The real system's rule on the same rows: kana + birth date + sex, first hit.
    first: dict[tuple[str, date, str], int] = {}
    for q in kojin.register.iter_residents(status=Status.RESIDENT):
        first.setdefault((kana_strict(q.kana), q.birth_date, q.sex.value), q.resident_id)
    wrong = sum(
        1
        for member, truth, _ in rows
        if (hit := first.get((kana_strict(member.kana), member.birth_date, member.sex.value))) is not None
        and hit != truth
    )
    assert wrong >= 25  # at least the doubles and the people elsewhere
