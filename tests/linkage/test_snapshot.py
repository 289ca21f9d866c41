"""Snapshots of the matching index: read while current, never when stale, no number inside."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select, update

from kojin.app import Kojin
from kojin.linkage import snapshot
from kojin.linkage.keys import KeyStore
from kojin.linkage.matcher import Decision, MemberRecord
from kojin.linkage.store import index_snapshots, index_state, resident_keys
from kojin.registry.domain import Address, Sex
from tests.linkage.conftest import Town

YAMADA = MemberRecord(
    "M-1", "山田太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", Sex("1"), date(1980, 4, 1), "1130033", "東京都文京区本郷四丁目十五番十四号"
)
MAIDEN = MemberRecord(
    "M-2", "高橋　和子", "タカハシ　カズコ", Sex("2"), date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3"
)
MOVED = MemberRecord(
    "M-3", "山田　太郎", "ヤマダ　タロウ", Sex("1"), date(1980, 4, 1), "1130024", "東京都文京区西片1-1-1"
)


def _generations(kojin: Kojin) -> list[int]:
    with kojin.matching.engine.connect() as conn:
        return sorted({int(g) for g in conn.execute(select(index_snapshots.c.generation)).scalars()})


def _generation(kojin: Kojin) -> int:
    with kojin.matching.engine.connect() as conn:
        return snapshot.current_generation(conn)


def _fresh_matches(kojin: Kojin, members: list[MemberRecord]) -> list[tuple[Decision, int | None, float | None]]:
    kojin.matching.close()  # as a process starting up
    return [(r.decision, r.resident_id, r.score) for r in (kojin.matching.match(m) for m in members)]


def test_a_starting_process_stores_a_snapshot_and_the_next_one_reads_it(kojin: Kojin, town: Town) -> None:
    kojin.matching.refresh_index()
    assert _generations(kojin) == []
    cold = _fresh_matches(kojin, [YAMADA, MAIDEN])
    assert _generations(kojin) == [_generation(kojin)]
    # The keys table is emptied behind the service's back (no new generation): a
    # start-up that still finds 山田太郎 read the snapshot, not the table.
    with kojin.matching.engine.begin() as conn:
        conn.execute(delete(resident_keys))
    assert _fresh_matches(kojin, [YAMADA, MAIDEN]) == cold
    assert cold[0][0] is Decision.LINKED and cold[0][1] == town.yamada.resident_id


def test_old_names_and_addresses_survive_the_snapshot(kojin: Kojin, town: Town) -> None:
    kojin.register.move_within(town.yamada.resident_id, Address("1130024", "", "", "", "1丁目1番1号"))
    kojin.register.change_name(town.mother.resident_id, name="佐藤　和子", kana="サトウ　カズコ")
    kojin.matching.refresh_index()
    stale = MemberRecord(
        "M-4", "山田　太郎", "ヤマダ　タロウ", Sex("1"), date(1980, 4, 1), "1130033", "東京都文京区本郷4-15-14"
    )
    cold = _fresh_matches(kojin, [stale, MAIDEN, MOVED])  # read from the keys, snapshot stored
    warm = _fresh_matches(kojin, [stale, MAIDEN, MOVED])  # read from the snapshot
    assert warm == cold
    reasons = [kojin.matching.match(m).reason_text for m in (stale, MAIDEN)]
    assert "moved" in reasons[0] and "name_changed" in reasons[1]


def test_a_change_to_the_keys_makes_the_snapshot_stale(kojin: Kojin, town: Town) -> None:
    kojin.matching.refresh_index()
    _fresh_matches(kojin, [YAMADA])
    first = _generation(kojin)
    kojin.register.move_within(town.yamada.resident_id, Address("1130024", "", "", "", "1丁目1番1号"))
    kojin.matching.refresh_index()
    assert _generation(kojin) > first
    [(decision, resident_id, _)] = _fresh_matches(kojin, [MOVED])  # the new address: not the old snapshot
    assert decision is Decision.LINKED and resident_id == town.yamada.resident_id
    assert _generations(kojin) == [_generation(kojin)]  # the stale snapshot is gone


def test_a_snapshot_in_another_format_or_damaged_is_not_read(kojin: Kojin, town: Town) -> None:
    kojin.matching.refresh_index()
    expected = _fresh_matches(kojin, [YAMADA, MAIDEN])
    generation = _generation(kojin)
    with kojin.matching.engine.begin() as conn:
        conn.execute(update(index_snapshots).values(format="index-0/marshal-2/py3.9"))
    assert _fresh_matches(kojin, [YAMADA, MAIDEN]) == expected
    with kojin.matching.engine.connect() as conn:
        assert snapshot.read(conn, generation) is not None  # replaced by one in this format
    with kojin.matching.engine.begin() as conn:
        conn.execute(update(index_snapshots).values(data=b"\x00not marshal"))
        assert snapshot.read(conn, generation) is None
    assert _fresh_matches(kojin, [YAMADA, MAIDEN]) == expected


def test_a_snapshot_written_after_the_keys_changed_is_refused(kojin: Kojin, town: Town) -> None:
    kojin.matching.refresh_index()
    with kojin.matching.engine.connect() as conn:
        generation = snapshot.current_generation(conn)
    contents, read_at = KeyStore(kojin.matching.engine).read_all()
    assert read_at == generation
    with kojin.matching.engine.begin() as conn:
        snapshot.bump(conn)
    assert not snapshot.write(kojin.matching.engine, generation, contents)
    assert _generations(kojin) == []


def test_the_snapshot_holds_no_number_and_no_juminhyo_code(kojin: Kojin, town: Town) -> None:
    kojin.matching.refresh_index()
    _fresh_matches(kojin, [YAMADA])
    with kojin.matching.engine.connect() as conn:
        blob = b"".join(bytes(d) for d in conn.execute(select(index_snapshots.c.data)).scalars())
        parts = conn.execute(select(func.count()).select_from(index_snapshots)).scalar_one()
        state = conn.execute(select(index_state.c.generation)).scalar_one()
    assert blob and parts >= 1 and state >= 1
    assert "山田".encode() in blob  # the keys are there …
    for person in (town.yamada, town.mother, town.son, town.twin_1):
        number = kojin.numbering.number_for(person.juminhyo_code)
        assert number.encode() not in blob  # … but no number
        assert person.juminhyo_code.encode() not in blob  # … and no 住民票コード


def test_a_snapshot_larger_than_a_part_is_stored_in_parts_and_read_whole(
    kojin: Kojin, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "_PART", 4096)  # as 32 MiB parts are to a national register
    kojin.matching.refresh_index()
    expected = _fresh_matches(kojin, [YAMADA, MAIDEN, MOVED])
    with kojin.matching.engine.connect() as conn:
        parts = conn.execute(select(func.count()).select_from(index_snapshots)).scalar_one()
        contents = snapshot.read(conn, snapshot.current_generation(conn))
    assert parts > 3 and contents is not None and len(contents.rows) == len(kojin.matching.matcher().index)
    assert _fresh_matches(kojin, [YAMADA, MAIDEN, MOVED]) == expected
