"""Linkage benchmark: kojin's matcher beside the real system's failing rule (基本4情報照合).

    python bench/linkage.py --members 100000 [--workers 2] [--db postgresql+psycopg://…] [--fit] [--codes 2000]

Builds a synthetic register over Tokyo's 23 wards (``generate_households`` +
``enroll_households``), makes real changes in it (``move_within``, ``change_name``),
then an insurer's member list from it with the noise insurers' lists have:
kana typos and formats, variant and mistyped kanji, every address form, missing
address parts, stale addresses after moves, maiden names after marriage, twins,
unrelated people with the same name and birth date (in the register and not), a
family member's details on the wrong line, a mistyped birth date. The truth is
known for every row.

Both run in the same process on the same members:

- **kojin**: the matching service (index load + ``match_many``);
- **real_rule**: kana + birth date + sex, first hit — how insurers searched
  J-LIS before the 7,372 wrong links were found.

Prints one JSON object: for each, wrong_links, linked, review, no_match,
records_per_s; the linkable count (rows whose data are current, typos and
formats allowed, and whose person is in the register) and kojin's share of
them linked automatically; an outcome table per noise kind; timings; the machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import platform
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from kanjize import number2kanji

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.demo.municipality import household_batches
from kojin.demo.population import generate_households
from kojin.linkage.matcher import Decision, MemberRecord, ResidentEntry
from kojin.linkage.normalise import kana_strict
from kojin.linkage.scoring import FIELDS, LEVELS, estimate_em
from kojin.registry import postal
from kojin.registry.domain import Address, PersonDetails, Resident, Sex, Status
from kojin.registry.service import HouseholdDraft

TODAY = date(2026, 11, 24)
WARDS = [f"131{n:02d}" for n in range(1, 24)]
SEP = "\u3000"

# Share of member rows of each noise kind (the rest are "clean": formats only).
NOISE = {
    "moved_stale": 0.010,  # moved; the insurer still has the old address
    "moved_updated": 0.005,  # moved; the insurer has the new address
    "name_changed_stale": 0.006,  # married; the insurer has the maiden name
    "wrong_line": 0.003,  # a family member's kana / birth date on this line
    "birth_typo": 0.003,
    "kana_typo": 0.020,
    "kanji_typo": 0.005,  # one kanji of the given name mistyped
    "kanji_variant": 0.010,  # 高 written 髙 or back (plus every register variant written plain)
    "missing_parts": 0.020,  # 号 or the whole block left out
}
EXTRA = {
    "doppelganger": 0.004,  # same name, birth date, sex as a resident, another address, in the register
    "not_in_register": 0.005,  # same as a resident but living elsewhere, not in this register
}
LINKABLE = {
    "clean",
    "moved_updated",
    "kana_typo",
    "kanji_typo",
    "kanji_variant",
    "missing_parts",
    "doppelganger",
    "twin",
}
VARIANTS = {"高": "髙", "崎": "﨑", "辺": "邊", "斎": "齋", "浜": "濱", "吉": "𠮷", "沢": "澤", "島": "嶋"}
PLAIN = {v: k for k, v in VARIANTS.items()} | {"邉": "辺", "齊": "斉", "濵": "浜"}
KANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
    "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ"
)
KANJI = "一二三人大小山川田中木林森本村上下井石原岡松竹梅花子美和光明正夫雄男郎太健康博文武信義"


@dataclass
class Row:
    member: MemberRecord
    truth: int | None
    kind: str


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.system()}


# -- the register ---------------------------------------------------------------------------------


def build_register(kojin: Kojin, residents: int, seed: int) -> None:
    per_ward = residents // len(WARDS)
    for i, code in enumerate(WARDS):
        count = per_ward + (residents - per_ward * len(WARDS) if i == 0 else 0)
        households = generate_households(code, count, seed=seed * 1000 + i, today=TODAY)
        for batch in household_batches(households, 20_000):
            kojin.register.enroll_households(batch, municipality_code=code, today=TODAY, validated=True)


def new_address(rng: random.Random, code: str, avoid: Address) -> Address:
    areas = [a for a in postal.areas_in(code) if a.postal_code != avoid.postal_code] or list(postal.areas_in(code))
    area = rng.choice(areas)
    if area.has_chome:
        block = f"{rng.randint(1, 4)}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"
    else:
        block = f"{rng.randint(1, 2500)}番地{rng.randint(1, 20)}"
    return Address(area.postal_code, area.prefecture, area.city, area.town, block, "")


# -- noise ----------------------------------------------------------------------------------------


def numbers_of(block: str) -> list[int]:
    out: list[int] = []
    digits = ""
    for ch in block:
        if ch.isdigit():
            digits += ch
        elif digits:
            out.append(int(digits))
            digits = ""
    if digits:
        out.append(int(digits))
    return out


def format_address(rng: random.Random, address: Address, *, drop: int = 0) -> str:
    numbers = numbers_of(address.block)
    if drop:
        numbers = numbers[: max(0, len(numbers) - drop)]
    chome = "丁目" in address.block
    form = rng.random()
    if not numbers:
        block = ""
    elif form < 0.35:
        block = address.block if not drop else "-".join(map(str, numbers))
    elif form < 0.75:
        block = "-".join(map(str, numbers))
    elif form < 0.88:
        block = "－".join(str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")) for n in numbers)
    else:
        marks = ["丁目", "番", "号"] if chome else ["番地", "", ""]
        block = "".join(number2kanji(n) + (marks[i] if i < len(marks) else "") for i, n in enumerate(numbers))
        if not chome and len(numbers) > 1:
            block = number2kanji(numbers[0]) + "番地" + "の".join(number2kanji(n) for n in numbers[1:])
    head = address.prefecture if rng.random() < 0.9 else ""
    line = f"{head}{address.city}{address.town}{block}"
    if address.building and rng.random() < 0.7:
        line += (" " if rng.random() < 0.8 else "") + address.building
    return line


def format_kana(rng: random.Random, kana: str) -> str:
    r = rng.random()
    if r < 0.10:
        return kana.replace(SEP, "")
    if r < 0.20:
        import jaconv

        return jaconv.z2h(kana, kana=True, ascii=False, digit=False)
    if r < 0.25:
        import jaconv

        return jaconv.kata2hira(kana)
    if r < 0.35:
        return kana.replace(SEP, " ")
    return kana


def format_name(rng: random.Random, name: str) -> str:
    r = rng.random()
    if r < 0.10:
        return name.replace(SEP, "").replace(" ", "")
    if r < 0.20:
        return name.replace(SEP, " ")
    return name


def kana_typo(rng: random.Random, kana: str) -> str:
    positions = [i for i, ch in enumerate(kana) if ch in KANA]
    if not positions:
        return kana
    i = rng.choice(positions)
    return kana[:i] + rng.choice([k for k in KANA if k != kana[i]]) + kana[i + 1 :]


def kanji_typo(rng: random.Random, name: str) -> str:
    surname, sep, given = name.partition(SEP)
    if len(given) < 2:
        return name
    i = rng.randrange(len(given))
    return surname + sep + given[:i] + rng.choice([k for k in KANJI if k != given[i]]) + given[i + 1 :]


def variant(rng: random.Random, name: str) -> str:
    """Write a variant kanji for a plain one, or the plain one for a variant."""
    return "".join(PLAIN.get(ch) or (VARIANTS[ch] if ch in VARIANTS and rng.random() < 0.8 else ch) for ch in name)


def plain(name: str) -> str:
    """What an insurer's system holds for a name with 髙 or an IVS: the plain kanji."""
    return "".join(PLAIN.get(ch, ch) for ch in name).replace("\U000e0100", "")


def member_of(
    rng: random.Random,
    member_id: str,
    person: Resident,
    *,
    name: str | None = None,
    kana: str | None = None,
    sex: Sex | None = None,
    birth: date | None = None,
    address: Address | None = None,
    drop: int = 0,
) -> MemberRecord:
    address = address or person.address
    raw_name = name or plain(person.name)
    return MemberRecord(
        member_id,
        format_name(rng, raw_name),
        format_kana(rng, kana or person.kana),
        sex or person.sex,
        birth or person.birth_date,
        address.postal_code,
        format_address(rng, address, drop=drop),
    )


# -- the run --------------------------------------------------------------------------------------


def make_members(kojin: Kojin, n: int, seed: int, log: Callable[[str], None]) -> tuple[list[Row], dict[str, float]]:
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    people = list(kojin.register.iter_residents(status=Status.RESIDENT, batch=20_000))
    households: dict[int, list[Resident]] = defaultdict(list)
    for p in people:
        households[p.household_id].append(p)
    timings["read_register_s"] = time.perf_counter() - t0
    log(f"register read: {len(people)} residents")

    extra_dopp = int(n * EXTRA["doppelganger"])
    extra_out = int(n * EXTRA["not_in_register"])
    sampled = rng.sample(people, n - extra_dopp - extra_out)
    kinds = list(NOISE)
    weights = list(NOISE.values())
    rows: list[Row] = []
    moves: list[tuple[Resident, Address, bool]] = []
    renames: list[tuple[Resident, bool]] = []
    ordinary: list[tuple[Resident, str]] = []
    for person in sampled:
        r = rng.random()
        kind = "clean"
        acc = 0.0
        for k, w in zip(kinds, weights, strict=True):
            acc += w
            if r < acc:
                kind = k
                break
        adult = person.age_on(TODAY) >= 20
        if kind in ("moved_stale", "moved_updated"):
            moves.append((person, new_address(rng, person.municipality_code, person.address), kind == "moved_stale"))
            continue
        if kind == "name_changed_stale":
            if adult and person.nationality == "JP" and SEP in person.name:
                renames.append((person, True))
                continue
            kind = "clean"
        if kind == "wrong_line":
            # Another member of the household, with another name and reading: when two
            # share a name (a mother and daughter both 葵), a line with one's name and
            # the other's birth date simply is the other's record, and no one could tell.
            family = [
                m
                for m in households[person.household_id]
                if m.resident_id != person.resident_id
                and m.birth_date != person.birth_date
                and plain(m.name) != plain(person.name)
                and kana_strict(m.kana) != kana_strict(person.kana)
            ]
            if family:
                ordinary.append((person, "wrong_line"))
                continue
            kind = "clean"
        if kind == "clean" and any(
            p.birth_date == person.birth_date and p.resident_id != person.resident_id
            for p in households[person.household_id]
        ):
            kind = "twin"
        ordinary.append((person, kind))

    t0 = time.perf_counter()
    # Real changes in the register, so that its history holds the old address or name.
    moved_to: dict[int, Address] = {}
    for person, address, _stale in moves:
        try:
            kojin.register.move_within(person.resident_id, address, effective_date=TODAY, today=TODAY)
            moved_to[person.resident_id] = address
        except Exception:
            continue
    renamed: dict[int, tuple[str, str]] = {}
    donors = rng.sample(people, min(len(people), 2 * len(renames) + 1))
    for (person, _stale), donor in zip(renames, donors, strict=False):
        surname, given = person.name.split(SEP, 1)
        ksur, kgiven = person.kana.split(SEP, 1) if SEP in person.kana else (person.kana, "")
        new_surname = donor.name.split(SEP, 1)[0] if SEP in donor.name else "新田"
        new_kana = donor.kana.split(SEP, 1)[0] if SEP in donor.kana else "ニッタ"
        if new_surname == surname:
            continue
        try:
            kojin.register.change_name(
                person.resident_id,
                name=new_surname + SEP + given,
                kana=new_kana + SEP + kgiven,
                effective_date=TODAY,
                today=TODAY,
            )
            renamed[person.resident_id] = (surname, ksur)
        except Exception:
            continue
    # Unrelated people with the same name, birth date and sex, living elsewhere in the register.
    originals = rng.sample(people, extra_dopp + extra_out)
    doubles: list[tuple[Resident, Address]] = []
    by_ward: dict[str, list[HouseholdDraft]] = defaultdict(list)
    for person in originals[:extra_dopp]:
        ward = rng.choice(WARDS)
        address = new_address(rng, ward, person.address)
        details = PersonDetails(person.name, person.kana, person.sex, person.birth_date, address)
        by_ward[ward].append(HouseholdDraft([(details, "世帯主")]))
        doubles.append((person, address))
    for ward, drafts in by_ward.items():
        kojin.register.enroll_households(drafts, municipality_code=ward, today=TODAY, validated=True)
    timings["register_changes_s"] = time.perf_counter() - t0
    log(f"register changes: {len(moved_to)} moves, {len(renamed)} name changes, {len(doubles)} doubles")

    # The doubles' resident ids: the newest residents, in enrolment order per ward.
    newest = list(kojin.register.iter_residents(after=max(p.resident_id for p in people), batch=20_000))
    double_ids: dict[tuple[str, date, str], list[int]] = defaultdict(list)
    for p in newest:
        double_ids[(p.name, p.birth_date, p.address.postal_code)].append(p.resident_id)

    counter = 0

    def next_id() -> str:
        nonlocal counter
        counter += 1
        return f"M{counter:08d}"

    for person, address, stale in moves:
        if person.resident_id not in moved_to:
            rows.append(Row(member_of(rng, next_id(), person), person.resident_id, "clean"))
        elif stale:
            rows.append(Row(member_of(rng, next_id(), person), person.resident_id, "moved_stale"))
        else:
            rows.append(Row(member_of(rng, next_id(), person, address=address), person.resident_id, "moved_updated"))
    for person, _stale in renames:
        if person.resident_id in renamed:
            rows.append(Row(member_of(rng, next_id(), person), person.resident_id, "name_changed_stale"))
        else:
            rows.append(Row(member_of(rng, next_id(), person), person.resident_id, "clean"))
    for person, kind in ordinary:
        member_id = next_id()
        if kind == "wrong_line":
            other = rng.choice(
                [
                    m
                    for m in households[person.household_id]
                    if m.resident_id != person.resident_id
                    and m.birth_date != person.birth_date
                    and plain(m.name) != plain(person.name)
                    and kana_strict(m.kana) != kana_strict(person.kana)
                ]
            )
            if rng.random() < 0.5:
                member = member_of(rng, member_id, person, kana=other.kana, sex=other.sex, birth=other.birth_date)
            else:  # only the other's birth date
                member = member_of(rng, member_id, person, birth=other.birth_date)
        elif kind == "birth_typo":
            b = person.birth_date
            if rng.random() < 0.5:
                wrong = b.replace(day=b.day % 28 + 1)
            else:
                wrong = b.replace(year=b.year - 1, day=min(b.day, 28))
            member = member_of(rng, member_id, person, birth=wrong)
        elif kind == "kana_typo":
            member = member_of(rng, member_id, person, kana=kana_typo(rng, person.kana))
        elif kind == "kanji_typo":
            member = member_of(rng, member_id, person, name=kanji_typo(rng, person.name))
        elif kind == "kanji_variant":
            written = variant(rng, person.name)
            if written == person.name:
                kind = "clean"
            member = member_of(rng, member_id, person, name=written)
        elif kind == "missing_parts":
            member = member_of(rng, member_id, person, drop=1 if rng.random() < 0.75 else 9)
        else:
            member = member_of(rng, member_id, person)
        rows.append(Row(member, person.resident_id, kind))
    for person, address in doubles:
        ids = double_ids.get((person.name, person.birth_date, address.postal_code), [])
        if ids:
            fake = replace(person, address=address)
            rows.append(Row(member_of(rng, next_id(), fake), ids[0], "doppelganger"))
    for person in originals[extra_dopp:]:
        far = rng.choice([a for a in postal.areas_in("27127") if a.has_chome] or list(postal.areas_in("27127")))
        address = Address(
            far.postal_code,
            far.prefecture,
            far.city,
            far.town,
            f"{rng.randint(1, 4)}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号",
        )
        rows.append(Row(member_of(rng, next_id(), person, address=address), None, "not_in_register"))
    rng.shuffle(rows)
    return rows, timings


def real_rule(people: list[Resident], rows: list[Row]) -> tuple[dict[str, float], dict[str, Counter[str]]]:
    """Kana + birth date + sex, first hit (the lowest resident id)."""
    t0 = time.perf_counter()
    first: dict[tuple[str, date, str], int] = {}
    for p in people:
        first.setdefault((kana_strict(p.kana), p.birth_date, p.sex.value), p.resident_id)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = [first.get((kana_strict(r.member.kana), r.member.birth_date, r.member.sex.value)) for r in rows]
    seconds = time.perf_counter() - t0
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    wrong = linked = 0
    for row, hit in zip(rows, found, strict=True):
        if hit is None:
            by_kind[row.kind]["no_match"] += 1
            continue
        linked += 1
        if hit != row.truth:
            wrong += 1
            by_kind[row.kind]["wrong"] += 1
        else:
            by_kind[row.kind]["linked"] += 1
    return {
        "wrong_links": wrong,
        "linked": linked,
        "review": 0,
        "no_match": len(rows) - linked,
        "records_per_s": round(len(rows) / seconds) if seconds else 0,
        "index_build_s": round(build_s, 2),
    }, by_kind


def fit(kojin: Kojin, rows: list[Row], seed: int) -> dict[str, object]:
    """m and u from the truth (supervised), and m by EM from blocked pairs, for the model's defaults."""
    matcher = kojin.matching.matcher()
    index = matcher.index
    rng = random.Random(seed)
    m_counts = {f: Counter[str]() for f in FIELDS}
    u_counts = {f: Counter[str]() for f in FIELDS}
    blocked: list[tuple[str, ...]] = []
    sample = rng.sample(rows, min(len(rows), 50_000))
    for row in sample:
        if row.truth is not None and row.truth in index.by_resident:
            true = matcher.score_record(row.member, index.entry(index.by_resident[row.truth]))
            for f, level in zip(FIELDS, true.levels, strict=True):
                m_counts[f][level] += 1
        other: ResidentEntry = index.entry(rng.randrange(len(index)))
        if other.resident_id != row.truth:
            for f, level in zip(FIELDS, matcher.score_record(row.member, other).levels, strict=True):
                u_counts[f][level] += 1
        for candidate in matcher.match(row.member).candidates:
            blocked.append(candidate.levels)

    def shares(counts: Counter[str], field: str) -> dict[str, float]:
        total = sum(counts.values()) or 1
        return {level: round(counts[level] / total, 6) for level in LEVELS[field]}

    em, share = estimate_em(blocked)
    return {
        "m_supervised": {f: shares(m_counts[f], f) for f in FIELDS},
        "u_random_pairs": {f: shares(u_counts[f], f) for f in FIELDS},
        "m_em": {f: {k: round(v, 6) for k, v in em.m[f].items()} for f in FIELDS},
        "em_match_share": round(share, 4),
    }


# -- timing the matching service ------------------------------------------------------------------


def _steal() -> float:
    """CPU time the hypervisor gave to other machines (/proc/stat), in seconds: a noisy neighbour shows here."""
    try:
        return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def match_here(kojin: Kojin, members: list[MemberRecord], workers: int) -> dict[str, Any]:
    """Start the matching service on this ``kojin`` (index from its snapshot) and match ``members``."""
    load_before, steal0 = os.getloadavg(), _steal()
    kojin.matching.close()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    kojin.matching.matcher()
    index_load = time.perf_counter() - t0
    index_load_cpu = time.process_time() - cpu0
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    results = kojin.matching.match_many(members, workers=workers)
    match_s = time.perf_counter() - t0
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match_cpu = (
        time.process_time()
        - cpu0
        + (children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime)
    )
    return {
        "index_load_s": index_load,
        "index_load_cpu_s": index_load_cpu,
        "match_s": match_s,
        "match_cpu_s": match_cpu,
        "results": [(r.decision, r.resident_id, tuple(x.text() for x in r.reasons)) for r in results],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "steal_s": round(_steal() - steal0, 2),
    }


def _fresh(
    data_dir: str, database_url: str | None, prefix: str, members_path: str, out_path: str, workers: int
) -> None:
    members = pickle.loads(Path(members_path).read_bytes())
    kojin = build(Settings(data_dir=Path(data_dir), database_url=database_url, schema_prefix=prefix), migrate=False)
    try:
        Path(out_path).write_bytes(pickle.dumps(match_here(kojin, members, workers)))
    finally:
        kojin.close()


def match_fresh(settings: Settings, members: list[MemberRecord], workers: int, workdir: Path) -> dict[str, Any]:
    """:func:`match_here` in a new process, as the service starts: not in this one, whose heap holds a
    whole generated register (at 1 M, matching here took 38.6 s where a fresh process took 30.1 s)."""
    members_path, out_path = workdir / "members.pickle", workdir / "results.pickle"
    members_path.write_bytes(pickle.dumps(members))
    child = multiprocessing.get_context("spawn").Process(
        target=_fresh,
        args=(
            str(settings.data_dir),
            settings.database_url,
            settings.schema_prefix,
            str(members_path),
            str(out_path),
            workers,
        ),
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the matching process failed ({child.exitcode})")
    result: dict[str, Any] = pickle.loads(out_path.read_bytes())
    members_path.unlink()
    out_path.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--residents", type=int, default=None, help="register size (default members × 1.15)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=None, help="SQLAlchemy URL; SQLite files in a temp dir when omitted")
    parser.add_argument("--fit", action="store_true", help="also print m/u fitted on the truth and by EM")
    parser.add_argument("--codes", type=int, default=0, help="also record N outcomes (codes from the hub)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="match in this process (bloated by building the register) instead of a fresh one",
    )
    args = parser.parse_args()

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True, file=__import__("sys").stderr)

    workdir = Path(tempfile.mkdtemp(prefix="kojin-linkage-"))
    prefix = f"bench_{uuid.uuid4().hex[:6]}_" if args.db else ""
    settings = Settings(data_dir=workdir, database_url=args.db, schema_prefix=prefix)
    kojin = build(settings)
    out: dict[str, object] = {"members": args.members}
    try:
        residents = args.residents or int(args.members * 1.15)
        t0 = time.perf_counter()
        build_register(kojin, residents, args.seed)
        setup = {"enrol_s": round(time.perf_counter() - t0, 1)}
        log(f"enrolled {residents}")
        rows, timings = make_members(kojin, args.members, args.seed, log)
        setup.update({k: round(v, 1) for k, v in timings.items()})

        t0 = time.perf_counter()
        stats = kojin.matching.refresh_index()
        index_build = time.perf_counter() - t0
        # The first start after a refresh reads the keys and stores the index's snapshot.
        kojin.matching.close()
        t0 = time.perf_counter()
        kojin.matching.matcher()
        index_first_load = time.perf_counter() - t0
        kojin.matching.close()
        log(f"index: {stats.residents} residents, built in {index_build:.1f} s, first load {index_first_load:.1f} s")
        members = [r.member for r in rows]
        if args.same_process:
            fresh = match_here(kojin, members, args.workers)
        else:
            fresh = match_fresh(settings, members, args.workers, workdir)
        results = fresh.pop("results")
        log(f"matched {len(members)} in {fresh['match_s']:.1f} s")

        by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        reasons: Counter[str] = Counter()
        wrong = linked = review = no_match = linkable = linkable_linked = 0
        wrong_examples: list[dict[str, object]] = []
        fresh_machine = {k: fresh.pop(k) for k in ("load_average_before", "load_average_after", "steal_s")}
        for row, (decision, resident_id, reason_texts) in zip(rows, results, strict=True):
            if row.kind in LINKABLE:
                linkable += 1
            if decision is Decision.LINKED:
                linked += 1
                if resident_id != row.truth:
                    wrong += 1
                    by_kind[row.kind]["wrong"] += 1
                    if len(wrong_examples) < 5:
                        wrong_examples.append(
                            {"kind": row.kind, "member": str(row.member), "truth": row.truth, "linked": resident_id}
                        )
                else:
                    by_kind[row.kind]["linked"] += 1
                    linkable_linked += row.kind in LINKABLE
            elif decision is Decision.REVIEW:
                review += 1
                by_kind[row.kind]["review"] += 1
                for reason in reason_texts:
                    reasons[reason] += 1
            else:
                no_match += 1
                by_kind[row.kind]["no_match"] += 1
        people = list(kojin.register.iter_residents(status=Status.RESIDENT, batch=20_000))
        real, real_kinds = real_rule(people, rows)
        out.update(
            {
                "residents": stats.residents,
                "linkable": linkable,
                "kojin": {
                    "wrong_links": wrong,
                    "linked": linked,
                    "review": review,
                    "no_match": no_match,
                    "records_per_s": round(len(rows) / fresh["match_s"]),
                    **{k: round(v, 2) for k, v in fresh.items()},
                    "end_to_end_s": round(fresh["index_load_s"] + fresh["match_s"], 2),
                    "index_build_s": round(index_build, 2),
                    "index_first_load_s": round(index_first_load, 2),
                    "measured_in": "this process" if args.same_process else "a fresh process",
                    "linkable_linked": linkable_linked,
                    "linkable_linked_share": round(linkable_linked / linkable, 4) if linkable else None,
                    "review_reasons": dict(reasons.most_common()),
                    "workers": args.workers,
                },
                "real_rule": real,
                "by_kind": {
                    k: {"rows": sum(by_kind[k].values()), "kojin": dict(by_kind[k]), "real_rule": dict(real_kinds[k])}
                    for k in sorted(by_kind)
                },
                "setup_s": setup,
                "noise": NOISE | EXTRA,
                "db": "postgresql" if args.db else "sqlite",
                "machine": machine() | fresh_machine,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
        if wrong_examples:
            out["wrong_examples"] = wrong_examples
        if args.codes:
            if kojin.hub.find_agency("kyokai") is None:
                from kojin.hub.domain import AgencyKind

                kojin.agencies.create("kyokai", name="全国健康保険協会", kind=AgencyKind.KYOKAI_KENPO)
            part = kojin.matching.match_many(members[: args.codes], workers=1)
            t0 = time.perf_counter()
            outcomes = kojin.matching.record("kyokai", part)
            seconds = time.perf_counter() - t0
            out["record"] = {
                "rows": len(part),
                "codes": sum(o.agency_code is not None for o in outcomes),
                "seconds": round(seconds, 2),
                "rows_per_s": round(len(part) / seconds),
            }
        if args.fit:
            out["fit"] = fit(kojin, rows, args.seed)
    finally:
        kojin.close()
        if args.db and not args.keep:
            build(settings, migrate=False).db.drop_all()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
