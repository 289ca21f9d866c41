"""The review queue (要確認案件) and clerks' decisions (判断記録).

A case is shown with each candidate's current register items — and the old
names and addresses from the register's history — beside the agreement levels
the matcher found, so the clerk compares like with like. A decision is taken
once, with the clerk's name and the time; a link made by a clerk replaces any
link the member had.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from kojin.core.errors import NotFound
from kojin.linkage import reasons as linkage_reasons
from kojin.linkage.outcomes import CaseSummary, DecisionRecord, OutcomeStore, link_row
from kojin.linkage.records import MemberRecord, ReasonItem
from kojin.registry.domain import EventKind
from kojin.registry.service import RegisterService

__all__ = ["CandidateView", "CaseView", "Review"]


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


def _check_decision(clerk: str, resident_id: int | None, no_match: bool) -> None:
    if not clerk or len(clerk) > 100:
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
        stored = self.outcomes.case(case_id)
        if stored is None:
            raise linkage_reasons.CASE_NOT_FOUND.error(case_id=case_id)
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
        )

    def decide(
        self, case_id: int, *, clerk: str, resident_id: int | None = None, no_match: bool = False
    ) -> DecisionRecord:
        """A clerk's decision: link the member to a resident, or record that nobody matches.

        Who decided and when is recorded with the decision; a case is decided once.
        """
        clerk = clerk.strip()
        _check_decision(clerk, resident_id, no_match)
        view = self.case(case_id)
        if view.status != "open":
            raise linkage_reasons.CASE_CLOSED.error(case_id=case_id)
        code: str | None = None
        address_level: str | None = None
        if resident_id is not None:
            self.register.get(resident_id)
            for candidate in view.candidates:
                if candidate.resident_id == resident_id:
                    address_level = candidate.levels.get("address")
            code = self._code_for(view.agency_id, resident_id)
        now = datetime.now(UTC)
        outcome = "link" if resident_id is not None else "no_match"
        decision = DecisionRecord(case_id, outcome, resident_id, clerk, now, code)
        link = None
        if resident_id is not None and code is not None:
            link = link_row(
                view.agency_id, view.member, resident_id, code, None, "clerk", address_level, case_id, None, now
            )
        if not self.outcomes.close_case(case_id, decision, link):
            raise linkage_reasons.CASE_CLOSED.error(case_id=case_id)
        return decision
