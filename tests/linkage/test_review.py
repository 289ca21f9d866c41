"""The clerk path: only a candidate can be linked; a link under the automatic threshold needs a second clerk."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kojin.app import Kojin
from kojin.core.errors import Conflict, InvalidInput, NotPermitted
from kojin.linkage.matcher import LINK_AT, Decision, MemberRecord
from kojin.linkage.outcomes import DecisionRecord, OutcomeStore
from kojin.linkage.review import Clerk
from kojin.registry.domain import Sex
from kojin.staff.domain import Organisation, Role
from tests.linkage.conftest import Town

# Two 山田太郎 born the same day, and this member's address is neither's: a case, both candidates low.
AMBIGUOUS = MemberRecord(
    "R-1", "山田　太郎", "ヤマダ　タロウ", Sex.MALE, date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1"
)


def _clerk(kojin: Kojin, staff_id: str, name: str) -> Clerk:
    """A linkage clerk registered in the staff party, as the doors hand them to the service."""
    kojin.staff.register(staff_id, name, Organisation.parse("linkage"), Role.LINKAGE_CLERK)
    return Clerk(staff_id, kojin.staff.member(staff_id).display_name)


@pytest.fixture
def case_id(kojin: Kojin, town: Town, agency: str) -> int:
    [outcome] = kojin.matching.link_members(agency, [AMBIGUOUS])
    assert outcome.decision is Decision.REVIEW and outcome.case_id is not None
    case = kojin.matching.case(outcome.case_id)
    assert {c.resident_id for c in case.candidates} == {town.yamada.resident_id, town.double.resident_id}
    assert all(c.score < LINK_AT for c in case.candidates)
    return outcome.case_id


def _links_of(kojin: Kojin, member_id: str) -> list[int | None]:
    return [r.resident_id for r in kojin.matching.iter_links() if r.member_id == member_id]


def test_only_a_candidate_can_be_linked(kojin: Kojin, town: Town, case_id: int) -> None:
    tanaka = _clerk(kojin, "l.tanaka", "照合 田中")
    suzuki = _clerk(kojin, "l.suzuki", "照合 鈴木")
    for outsider in (town.mother.resident_id, 999):
        with pytest.raises(InvalidInput) as refused:
            kojin.matching.decide(case_id, clerk=tanaka, resident_id=outsider)
        assert refused.value.code == "linkage.not_a_candidate" and refused.value.field == "resident_id"
    # Refused whole: no decision, no proposal, no link — and two clerks agreeing on an outsider fare no better.
    case = kojin.matching.case(case_id)
    assert case.status == "open" and case.decisions == () and case.proposed_resident is None
    with pytest.raises(InvalidInput):
        kojin.matching.decide(case_id, clerk=suzuki, resident_id=town.mother.resident_id)
    assert _links_of(kojin, "R-1") == []


def test_a_low_score_link_waits_for_a_different_clerk(kojin: Kojin, town: Town, case_id: int) -> None:
    tanaka = _clerk(kojin, "l.tanaka", "照合 田中")
    suzuki = _clerk(kojin, "l.suzuki", "照合 鈴木")
    yamada = town.yamada.resident_id

    first = kojin.matching.decide(case_id, clerk=tanaka, resident_id=yamada)
    assert first.outcome == "proposed" and first.agency_code is None and first.clerk_id == "l.tanaka"
    pending = kojin.matching.case(case_id)
    assert (pending.status, pending.proposed_by, pending.proposed_resident) == ("pending_second", "l.tanaka", yamada)
    assert _links_of(kojin, "R-1") == []
    assert [c.case_id for c in kojin.matching.cases()] == [case_id]  # still in the queue
    assert [c.case_id for c in kojin.matching.cases(status="pending_second")] == [case_id]

    # The same clerk again — even under another display name — is not a second person.
    for same in (tanaka, Clerk("l.tanaka", "別名")):
        with pytest.raises(NotPermitted) as refused:
            kojin.matching.decide(case_id, clerk=same, resident_id=yamada)
        assert refused.value.code == "linkage.same_clerk"
    assert kojin.matching.case(case_id).status == "pending_second" and _links_of(kojin, "R-1") == []

    second = kojin.matching.decide(case_id, clerk=suzuki, resident_id=yamada)
    assert second.outcome == "link" and second.agency_code and second.clerk_id == "l.suzuki"
    done = kojin.matching.case(case_id)
    assert done.status == "linked"
    assert [(d.outcome, d.clerk_id, d.resident_id) for d in done.decisions] == [
        ("proposed", "l.tanaka", yamada),
        ("link", "l.suzuki", yamada),
    ]
    [link] = [r for r in kojin.matching.iter_links() if r.member_id == "R-1"]
    assert (link.resident_id, link.path, link.agency_code) == (yamada, "clerk_second", second.agency_code)
    with pytest.raises(Conflict):
        kojin.matching.decide(case_id, clerk=tanaka, no_match=True)


def test_a_second_clerk_who_disagrees_proposes_anew(kojin: Kojin, town: Town, case_id: int) -> None:
    tanaka = _clerk(kojin, "l.tanaka", "照合 田中")
    suzuki = _clerk(kojin, "l.suzuki", "照合 鈴木")
    kojin.matching.decide(case_id, clerk=tanaka, resident_id=town.yamada.resident_id)
    other = kojin.matching.decide(case_id, clerk=suzuki, resident_id=town.double.resident_id)
    assert other.outcome == "proposed"
    case = kojin.matching.case(case_id)
    assert (case.status, case.proposed_by, case.proposed_resident) == (
        "pending_second",
        "l.suzuki",
        town.double.resident_id,
    )
    # Now 田中 is the second clerk of 鈴木's proposal; 鈴木 cannot confirm it.
    with pytest.raises(NotPermitted):
        kojin.matching.decide(case_id, clerk=suzuki, resident_id=town.double.resident_id)
    made = kojin.matching.decide(case_id, clerk=tanaka, resident_id=town.double.resident_id)
    assert made.outcome == "link" and _links_of(kojin, "R-1") == [town.double.resident_id]


def test_no_match_needs_one_clerk_even_on_a_proposal(kojin: Kojin, town: Town, case_id: int) -> None:
    tanaka = _clerk(kojin, "l.tanaka", "照合 田中")
    kojin.matching.decide(case_id, clerk=tanaka, resident_id=town.yamada.resident_id)
    made = kojin.matching.decide(case_id, clerk=tanaka, no_match=True)
    assert made.outcome == "no_match" and kojin.matching.case(case_id).status == "no_match"
    assert _links_of(kojin, "R-1") == []


def test_a_candidate_above_the_threshold_is_linked_by_one_clerk(kojin: Kojin, town: Town, agency: str) -> None:
    """A member the rule would link, sent again with another person's address: review for the existing link."""
    member = MemberRecord(
        "R-2", "山田　太郎", "ヤマダ　タロウ", Sex.MALE, date(1980, 4, 1), "1130033", "東京都文京区本郷4-15-14"
    )
    [linked] = kojin.matching.link_members(agency, [member])
    assert linked.decision is Decision.LINKED
    moved = MemberRecord(
        "R-2", "山田　太郎", "ヤマダ　タロウ", Sex.MALE, date(1980, 4, 1), "1120001", "東京都文京区白山2-3-4"
    )
    [review] = kojin.matching.link_members(agency, [moved])
    assert review.case_id is not None
    case = kojin.matching.case(review.case_id)
    [double] = [c for c in case.candidates if c.resident_id == town.double.resident_id]
    assert double.score >= LINK_AT
    made = kojin.matching.decide(
        review.case_id, clerk=_clerk(kojin, "l.ito", "照合 伊藤"), resident_id=double.resident_id
    )
    assert made.outcome == "link" and _links_of(kojin, "R-2") == [town.double.resident_id]
    [link] = [r for r in kojin.matching.iter_links() if r.member_id == "R-2"]
    assert link.path == "clerk"


def test_a_decision_on_a_case_read_before_another_clerks_is_not_written(kojin: Kojin, town: Town, case_id: int) -> None:
    """Two clerks at once: each move is conditional on the status and proposal that were read."""
    store = OutcomeStore(kojin.db.engine("linkage"))
    tanaka = _clerk(kojin, "l.tanaka", "照合 田中")
    suzuki = _clerk(kojin, "l.suzuki", "照合 鈴木")
    stale = store.case(case_id)
    assert stale is not None and stale.status == "open"
    kojin.matching.decide(case_id, clerk=tanaka, resident_id=town.yamada.resident_id)
    late = DecisionRecord(case_id, "no_match", None, suzuki.label, datetime.now(UTC), None, suzuki.staff_id)
    assert not store.close_case(case_id, late, None, was=stale, status="no_match")

    proposal = store.case(case_id)
    assert proposal is not None and proposal.proposed_by == "l.tanaka"
    kojin.matching.decide(case_id, clerk=suzuki, resident_id=town.double.resident_id)  # a new proposal meanwhile
    confirm = DecisionRecord(case_id, "link", town.yamada.resident_id, "x（l.ito）", datetime.now(UTC), "C", "l.ito")
    assert not store.close_case(case_id, confirm, None, was=proposal, status="linked")
    case = kojin.matching.case(case_id)
    assert (case.status, case.proposed_by, case.proposed_resident) == (
        "pending_second",
        "l.suzuki",
        town.double.resident_id,
    )
    assert [d.clerk_id for d in case.decisions] == ["l.tanaka", "l.suzuki"]
