"""Recording an agency's member list (一括照会): codes for the links, cases for the rest.

A person becomes an agency's code only the way J-LIS does it — 住民票コード →
number → link id (:meth:`NumberingService.link_id_for`) → the hub's
:meth:`HubService.issue_code` — so the number is never stored by the service.
A member already linked to the same resident keeps the link; one linked to
another resident goes to review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from kojin.hub.service import HubService
from kojin.linkage import reasons
from kojin.linkage.keys import KeyStore
from kojin.linkage.members import Outcome
from kojin.linkage.outcomes import OutcomeStore, case_row, link_row
from kojin.linkage.records import Decision, MatchResult, Reason, ReasonItem
from kojin.numbering.service import NumberingService
from kojin.registry.service import RegisterService

__all__ = ["Linker"]

# Per member: the outcome, and the new case's row when it opens one.
_Sorted = tuple[list[Outcome], list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]


def _refuse_repeated(member_ids: list[str]) -> None:
    if len(set(member_ids)) != len(member_ids):
        repeated = next(m for m, n in Counter(member_ids).items() if n > 1)
        raise reasons.MEMBER_REPEATED.error(repeated=repeated)


def _to_review(result: MatchResult) -> MatchResult:
    """A link the rule would make, turned to review: the member is linked to someone else already."""
    return MatchResult(
        result.member,
        Decision.REVIEW,
        None,
        result.score,
        (ReasonItem(Reason.CONFLICTING_FIELD, "existing_link"),),
        result.candidates,
        result.address_level,
    )


class Linker:
    """Issues agencies' codes and records what the matcher decided."""

    def __init__(
        self,
        keys: KeyStore,
        outcomes: OutcomeStore,
        register: RegisterService,
        numbering: NumberingService,
        hub: HubService,
    ) -> None:
        self.keys = keys
        self.outcomes = outcomes
        self.register = register
        self.numbering = numbering
        self.hub = hub

    def code_for(self, agency_id: str, resident_id: int) -> str:
        """The agency's code for a resident, the J-LIS way: code → number → link id → hub."""
        juminhyo_code = self.keys.juminhyo_code(resident_id) or self.register.get(resident_id).juminhyo_code
        number = self.numbering.number_for(juminhyo_code)
        return self.hub.issue_code(agency_id, self.numbering.link_id_for(number))

    def record(
        self, agency_id: str, results: Sequence[MatchResult], *, progress: Callable[[int], None] | None = None
    ) -> list[Outcome]:
        """Record decisions: issue and store codes for links, open cases for the rest."""
        self.hub.agency(agency_id)
        member_ids = [r.member.member_id for r in results]
        _refuse_repeated(member_ids)
        existing, has_open = self.outcomes.existing(agency_id, member_ids)
        now = datetime.now(UTC)
        batch_id = self.outcomes.open_batch(agency_id, len(results), now)
        outcomes, link_rows, case_rows = self._sort(agency_id, results, existing, batch_id, now, progress)
        counts = (
            sum(o.decision is Decision.LINKED for o in outcomes),
            sum(o.decision is Decision.REVIEW for o in outcomes),
            sum(o.decision is Decision.NO_MATCH for o in outcomes),
        )
        try:
            case_ids = self.outcomes.write_outcomes(
                agency_id, batch_id, member_ids, has_open, link_rows, [r for _, r in case_rows], counts
            )
        except IntegrityError:
            raise reasons.CONCURRENT.error() from None
        for (n, _row), case_id in zip(case_rows, case_ids, strict=True):
            o = outcomes[n]
            outcomes[n] = Outcome(o.member_id, o.decision, None, None, o.score, o.reasons, case_id)
        if progress:
            progress(len(results))
        return outcomes

    def _sort(
        self,
        agency_id: str,
        results: Sequence[MatchResult],
        existing: dict[str, tuple[int, str]],
        batch_id: int,
        now: datetime,
        progress: Callable[[int], None] | None,
    ) -> _Sorted:
        """Each member's outcome; a code issued for each new link, a case row for each member not linked."""
        outcomes: list[Outcome] = []
        link_rows: list[dict[str, Any]] = []
        case_rows: list[tuple[int, dict[str, Any]]] = []
        for n, result in enumerate(results):
            member = result.member
            if result.decision is Decision.LINKED and result.resident_id is not None:
                resident_id = result.resident_id
                prior = existing.get(member.member_id)
                if prior is not None and prior[0] == resident_id:
                    outcomes.append(Outcome.of(result, prior[1], None))
                    continue
                if prior is not None:
                    result = _to_review(result)
                else:
                    code = self.code_for(agency_id, resident_id)
                    link_rows.append(
                        link_row(
                            agency_id,
                            member,
                            resident_id,
                            code,
                            result.score,
                            "auto",
                            result.address_level,
                            None,
                            batch_id,
                            now,
                        )
                    )
                    outcomes.append(Outcome.of(result, code, None))
                    if progress and len(link_rows) % 1000 == 0:
                        progress(n)
                    continue
            case_rows.append((n, case_row(batch_id, agency_id, result, now)))
            outcomes.append(Outcome.of(result, None, None))
        return outcomes, link_rows, case_rows
