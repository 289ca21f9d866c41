"""The review queue (要確認案件) and clerks' decisions (判断記録).

A case is shown with each candidate's current register items — and the old
names and addresses from the register's history — beside the agreement levels
the matcher found, so the clerk compares like with like. Every decision is
recorded under the staff identity a door proved (the web's login, the CLI's
operator key) with the time; a link made by clerks replaces any link the
member had.

A clerk links a member only to one of the case's candidates: nobody else was
compared, so nobody else can be chosen. A link to a candidate the matcher
scored below :data:`~kojin.linkage.matcher.LINK_AT` — the score at which it
would have linked by itself — needs two clerks (二者確認): the first one's
choice leaves the case ``pending_second``, and it becomes a link only when a
different clerk chooses the same resident. A no-match needs one clerk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from kojin.core.errors import NotFound
from kojin.linkage import reasons as linkage_reasons
from kojin.linkage.matcher import LINK_AT
from kojin.linkage.outcomes import CaseSummary, DecisionRecord, OutcomeStore, StoredCase, link_row
from kojin.linkage.records import MemberRecord, ReasonItem
from kojin.registry.domain import EventKind
from kojin.registry.service import RegisterService

__all__ = ["CandidateView", "CaseView", "Clerk", "Review"]


@dataclass(frozen=True)
class Clerk:
    """The staff member deciding, as a door proved them: their staff id, and their name for people to read."""

    staff_id: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name}（{self.staff_id}）"


@dataclass(frozen=True)
class CandidateView:
    """A candidate as the clerk sees it: the register's items beside the levels."""

    resident_id: int
    score: float
    levels: dict[str, str]
    name: str
    kana: str
    sex: str
    birth_date: date
    postal_code: str
    address: str
    status: str
    old_names: tuple[str, ...]
    old_addresses: tuple[str, ...]
    via_old_name: bool
    via_old_address: bool


@dataclass(frozen=True)
class CaseView:
    case_id: int
    agency_id: str
    member: MemberRecord
    reasons: tuple[ReasonItem, ...]
    candidates: tuple[CandidateView, ...]
    score: float | None
    status: str
    created_at: datetime
    decisions: tuple[DecisionRecord, ...] = field(default_factory=tuple)
    proposed_by: str | None = None  # pending_second: the first clerk's staff id …
    proposed_resident: int | None = None  # … and the resident they chose


def _check_decision(clerk: Clerk, resident_id: int | None, no_match: bool) -> None:
    if not clerk.staff_id or not clerk.name or len(clerk.label) > 100:
        raise linkage_reasons.CLERK.error()
    if (resident_id is None) == (not no_match):
        raise linkage_reasons.DECISION.error()


class Review:
    """Cases for clerks, read with the register, and their decisions."""

    def __init__(self, outcomes: OutcomeStore, register: RegisterService, code_for: Callable[[str, int], str]) -> None:
        self.outcomes = outcomes
        self.register = register
        self._code_for = code_for

    def cases(
        self, *, status: str | None = "open", agency_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[CaseSummary]:
        """Review cases, oldest first (要確認一覧)."""
        return self.outcomes.list_cases(status=status, agency_id=agency_id, limit=limit, offset=offset)

    def count_cases(self, status: str = "open") -> int:
        return self.outcomes.count_cases(status)

    def _candidate(self, stored: dict[str, Any]) -> CandidateView | None:
        try:
            resident = self.register.get(int(stored["resident_id"]))
        except NotFound:
            return None
        history = self.register.history_of(resident.resident_id)
        return CandidateView(
            resident.resident_id,
            float(stored["score"]),
            dict(stored["levels"]),
            resident.name,
            resident.kana,
            resident.sex.value,
            resident.birth_date,
            resident.address.postal_code,
            resident.address.one_line(),
            resident.status.value,
            tuple(
                f"{h.details.get('from', '')}（{h.details.get('from_kana', '')}）"
                for h in history
                if h.kind is EventKind.NAME_CHANGE
            ),
            tuple(h.details.get("from", "") for h in history if h.kind is EventKind.MOVE_WITHIN),
            bool(stored.get("via_old_name")),
            bool(stored.get("via_old_address")),
        )

    def case(self, case_id: int) -> CaseView:
        """One case with each candidate's register items side by side (要確認案件の詳細)."""
        return self._view(self._stored(case_id))

    def _stored(self, case_id: int) -> StoredCase:
        stored = self.outcomes.case(case_id)
        if stored is None:
            raise linkage_reasons.CASE_NOT_FOUND.error(case_id=case_id)
        return stored

    def _view(self, stored: StoredCase) -> CaseView:
        views = tuple(v for v in map(self._candidate, stored.candidates) if v is not None)
        return CaseView(
            stored.case_id,
            stored.agency_id,
            stored.member,
            stored.reasons,
            views,
            stored.score,
            stored.status,
            stored.created_at,
            stored.decisions,
            stored.proposed_by,
            stored.proposed_resident,
        )

    def decide(
        self, case_id: int, *, clerk: Clerk, resident_id: int | None = None, no_match: bool = False
    ) -> DecisionRecord:
        """A clerk's decision: link the member to one of the case's candidates, or record that nobody matches.

        A link to a candidate below the automatic threshold is only proposed
        (``pending_second``) until a second, different clerk chooses the same
        resident. Who decided and when is recorded with every decision.
        """
        _check_decision(clerk, resident_id, no_match)
        stored = self._stored(case_id)
        view = self._view(stored)
        if view.status not in ("open", "pending_second"):
            raise linkage_reasons.CASE_CLOSED.error(case_id=case_id)
        now = datetime.now(UTC)
        if resident_id is None:
            decision = DecisionRecord(case_id, "no_match", None, clerk.label, now, None, clerk.staff_id)
            return self._record(stored, decision, None, "no_match")
        candidate = next((c for c in view.candidates if c.resident_id == resident_id), None)
        if candidate is None:
            # Nobody else was compared with the member; a card read at the counter is the way to name anyone else.
            raise linkage_reasons.NOT_A_CANDIDATE.error(case_id=case_id, resident_id=resident_id)
        confirms = view.status == "pending_second" and view.proposed_resident == resident_id
        if view.status == "pending_second" and view.proposed_by == clerk.staff_id:
            raise linkage_reasons.SAME_CLERK.error(case_id=case_id)
        if candidate.score < LINK_AT and not confirms:
            decision = DecisionRecord(case_id, "proposed", resident_id, clerk.label, now, None, clerk.staff_id)
            return self._record(stored, decision, None, "pending_second")
        code = self._code_for(view.agency_id, resident_id)
        decision = DecisionRecord(case_id, "link", resident_id, clerk.label, now, code, clerk.staff_id)
        method = "clerk2" if confirms else "clerk"
        link = link_row(
            view.agency_id,
            view.member,
            resident_id,
            code,
            candidate.score,
            method,
            candidate.levels.get("address"),
            case_id,
            None,
            now,
        )
        return self._record(stored, decision, link, "linked")

    def _record(
        self, stored: StoredCase, decision: DecisionRecord, link: dict[str, Any] | None, status: str
    ) -> DecisionRecord:
        if not self.outcomes.close_case(stored.case_id, decision, link, was=stored, status=status):
            raise linkage_reasons.CASE_CHANGED.error(case_id=stored.case_id)
        return decision
