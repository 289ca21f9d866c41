"""The matching service with its store: codes through J-LIS and the hub, history, review decisions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from kojin.app import Kojin
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kojin.linkage.matcher import Decision, MemberRecord, Reason, ReasonItem
from kojin.linkage.review import Clerk
from kojin.registry.domain import Address, Resident, Sex
from tests.linkage.conftest import Town


def _member(
    resident_id_hint: str,
    name: str,
    kana: str,
    sex: str,
    born: date,
    postal: str,
    address: str,
) -> MemberRecord:
    return MemberRecord(resident_id_hint, name, kana, Sex(sex), born, postal, address)


YAMADA = _member("M-1", "山田太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "1", date(1980, 4, 1), "1130033", "東京都文京区本郷四丁目十五番十四号")


def test_link_gives_the_agencys_own_code_the_jlis_way(kojin: Kojin, town: Town, agency: str) -> None:
    [outcome] = kojin.matching.link_members(agency, [YAMADA])
    assert outcome.decision is Decision.LINKED and outcome.resident_id == town.yamada.resident_id
    number = kojin.numbering.number_for(town.yamada.juminhyo_code)
    code, _local = kojin.agencies.obtain_code_unverified(agency, number)
    assert outcome.agency_code == code
    # Asking again is idempotent: the same code, one link.
    [again] = kojin.matching.link_members(agency, [YAMADA])
    assert again.agency_code == code
    links = list(kojin.matching.iter_links())
    assert len(links) == 1 and links[0].path == "matcher" and links[0].address_level == "full"


def test_an_unknown_agency_is_refused(kojin: Kojin, town: Town) -> None:
    with pytest.raises(NotFound) as caught:
        kojin.matching.link_members("nobody", [YAMADA])
    assert caught.value.code == "hub.unknown_agency"


def test_register_changes_reach_the_index_through_events(kojin: Kojin, town: Town, agency: str) -> None:
    kojin.matching.refresh_index()
    kojin.register.move_within(town.yamada.resident_id, Address("1130024", "", "", "", "1丁目1番1号"))
    kojin.register.change_name(town.mother.resident_id, name="佐藤　和子", kana="サトウ　カズコ")
    stale = _member("M-2", "山田　太郎", "ヤマダ　タロウ", "1", date(1980, 4, 1), "1130033", "東京都文京区本郷4-15-14")
    current = _member("M-3", "山田　太郎", "ヤマダ　タロウ", "1", date(1980, 4, 1), "1130024", "東京都文京区西片1-1-1")
    maiden = _member("M-4", "高橋　和子", "タカハシ　カズコ", "2", date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3")
    moved, linked, renamed = kojin.matching.link_members(agency, [stale, current, maiden])
    assert moved.decision is Decision.REVIEW and "moved" in moved.reasons.split(";")
    assert linked.decision is Decision.LINKED and linked.resident_id == town.yamada.resident_id
    assert renamed.decision is Decision.REVIEW and "name_changed" in renamed.reasons.split(";")
    case = kojin.matching.case(renamed.case_id or 0)
    assert case.candidates[0].resident_id == town.mother.resident_id
    assert case.candidates[0].old_names and "髙橋" in case.candidates[0].old_names[0]


def test_review_decision_is_recorded_with_clerk_and_time(kojin: Kojin, town: Town, agency: str) -> None:
    ambiguous = _member(
        "M-5", "山田　太郎", "ヤマダ　タロウ", "1", date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1"
    )
    [outcome] = kojin.matching.link_members(agency, [ambiguous])
    assert outcome.decision is Decision.REVIEW and outcome.case_id is not None
    case = kojin.matching.case(outcome.case_id)
    assert ReasonItem(Reason.AMBIGUOUS) in case.reasons
    assert {c.resident_id for c in case.candidates} == {town.yamada.resident_id, town.double.resident_id}
    assert [c.case_id for c in kojin.matching.cases()] == [outcome.case_id]

    tanaka, suzuki = Clerk("l.tanaka", "窓口 田中"), Clerk("l.suzuki", "窓口 鈴木")
    with pytest.raises(InvalidInput):
        kojin.matching.decide(outcome.case_id, clerk=Clerk("", " "), resident_id=town.yamada.resident_id)
    with pytest.raises(InvalidInput):
        kojin.matching.decide(outcome.case_id, clerk=tanaka, resident_id=town.yamada.resident_id, no_match=True)
    proposed = kojin.matching.decide(outcome.case_id, clerk=tanaka, resident_id=town.double.resident_id)
    made = kojin.matching.decide(outcome.case_id, clerk=suzuki, resident_id=town.double.resident_id)
    assert proposed.outcome == "proposed" and proposed.clerk == "窓口 田中（l.tanaka）"
    assert made.outcome == "link" and made.clerk == "窓口 鈴木（l.suzuki）" and made.agency_code
    assert made.decided_at.tzinfo is not None
    with pytest.raises(Conflict):
        kojin.matching.decide(outcome.case_id, clerk=suzuki, no_match=True)

    shown = kojin.matching.case(outcome.case_id)
    assert shown.status == "linked"
    assert [(d.clerk, d.outcome, d.resident_id) for d in shown.decisions] == [
        ("窓口 田中（l.tanaka）", "proposed", town.double.resident_id),
        ("窓口 鈴木（l.suzuki）", "link", town.double.resident_id),
    ]
    [link] = [r for r in kojin.matching.iter_links() if r.member_id == "M-5"]
    assert (link.path, link.resident_id, link.agency_code) == (
        "clerk_second",
        town.double.resident_id,
        made.agency_code,
    )
    assert kojin.matching.cases() == []


def test_no_match_decision_and_resubmission(kojin: Kojin, town: Town, agency: str) -> None:
    nobody = _member(
        "M-6", "勅使河原　蓮", "テシガワラ　レン", "1", date(2001, 1, 1), "1130033", "東京都文京区本郷1-1-1"
    )
    [first] = kojin.matching.link_members(agency, [nobody])
    assert first.decision is Decision.NO_MATCH and first.case_id is not None
    [second] = kojin.matching.link_members(agency, [nobody])
    assert kojin.matching.case(first.case_id).status == "superseded"
    assert second.case_id is not None
    made = kojin.matching.decide(second.case_id, clerk=Clerk("l.yamamoto", "山本"), no_match=True)
    assert made.outcome == "no_match" and made.resident_id is None
    assert kojin.matching.case(second.case_id).status == "no_match"
    with pytest.raises(NotFound):
        kojin.matching.case(999_999)


def test_csrf_tokens(kojin: Kojin) -> None:
    token = kojin.matching.csrf_token("case:1", now=1_000_000)
    kojin.matching.check_csrf(token, "case:1", now=1_000_100)
    for bad, purpose, now in [
        (token, "case:2", 1_000_100),  # another form
        (token, "case:1", 1_000_000 + 3 * 3600),  # too old
        (token[:-1] + ("0" if token[-1] != "0" else "1"), "case:1", 1_000_100),  # tampered
        ("garbage", "case:1", 1_000_100),
    ]:
        with pytest.raises(NotPermitted):
            kojin.matching.check_csrf(bad, purpose, now=now)


def test_a_rebuild_stopped_after_emptying_the_keys_starts_over(
    kojin: Kojin, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kojin.matching.refresh_index()

    def broken(**_: object) -> Iterator[Resident]:
        raise RuntimeError("the register went away")
        yield  # pragma: no cover

    monkeypatch.setattr(kojin.matching.register, "iter_residents", broken)
    with pytest.raises(RuntimeError):
        kojin.matching.refresh_index(rebuild=True)
    monkeypatch.undo()
    again = kojin.matching.refresh_index()  # not a rebuild: it must still find everybody
    assert again.residents == first.residents and again.added == first.residents
    assert kojin.matching.match(YAMADA).resident_id == town.yamada.resident_id
