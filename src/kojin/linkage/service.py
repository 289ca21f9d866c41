"""The matching service (基本4情報による個人番号取得支援): J-LIS's party.

An agency that lacks a person's number sends the four basic items; the
service answers with the agency's own code (機関別符号) for the one person the
rule is sure of, or opens a review case. It reads the register only through
:class:`~kojin.registry.service.RegisterService` (``iter_residents``, ``get``,
``history_of``) and the register's change events, and keeps its own
comparison keys; it turns a person into a code only the way J-LIS does —
住民票コード → number → link id (:meth:`NumberingService.link_id_for`) → the hub's
:meth:`HubService.issue_code` — so the number is never stored here.

:class:`MatchingService` is the one face of the service for the app, the CLI
and the pages; the work is in the modules it puts together: the comparison
keys (:mod:`~kojin.linkage.keys`) and the index over them
(:mod:`~kojin.linkage.refresh`), matching on forked workers
(:mod:`~kojin.linkage.parallel`), recording a member list
(:mod:`~kojin.linkage.linking`), the stored outcomes
(:mod:`~kojin.linkage.outcomes`), the review queue
(:mod:`~kojin.linkage.review`) and the pages' form tokens
(:mod:`~kojin.linkage.csrf`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from sqlalchemy import Engine

from kojin.core.events import EventBus
from kojin.hub.service import HubService
from kojin.linkage import parallel
from kojin.linkage.audit import AccountSource, AuditReport, HeldLink, LinkRow, run_audit
from kojin.linkage.csrf import FormTokens
from kojin.linkage.keys import KeyStore
from kojin.linkage.linking import Linker
from kojin.linkage.matcher import Matcher
from kojin.linkage.members import Outcome
from kojin.linkage.outcomes import CaseSummary, DecisionRecord, OutcomeStore
from kojin.linkage.records import MatchResult, MemberRecord, ResidentEntry
from kojin.linkage.refresh import IndexKeeper, IndexStats
from kojin.linkage.review import CandidateView, CaseView, Clerk, Review
from kojin.linkage.scoring import Model
from kojin.numbering.service import NumberingService
from kojin.registry import postal
from kojin.registry.domain import HistoryEntry, Resident
from kojin.registry.service import ADDRESS_CHANGED, DECEASED, MOVED_OUT, NAME_CHANGED, RegisterService

__all__ = ["CandidateView", "CaseSummary", "CaseView", "Clerk", "DecisionRecord", "IndexStats", "MatchingService"]


class MatchingService:
    """照合サービス: J-LIS's service for agencies that lack a person's number."""

    def __init__(
        self,
        engine: Engine,
        register: RegisterService,
        numbering: NumberingService,
        hub: HubService,
        bus: EventBus,
        *,
        model: Model | None = None,
    ) -> None:
        self.engine = engine
        self.register = register
        self.numbering = numbering
        self.hub = hub
        self.model = model or Model()
        keys = self._keys = KeyStore(engine)
        self._outcomes = OutcomeStore(engine)
        self._tokens = FormTokens(engine)
        self._index = IndexKeeper(keys, register, self.model)
        self._linker = Linker(keys, self._outcomes, register, numbering, hub)
        self._review = Review(self._outcomes, register, self._linker.code_for)
        # The register says who changed; the keys of those residents are rebuilt on the next refresh.
        for name in (ADDRESS_CHANGED, NAME_CHANGED, MOVED_OUT, DECEASED):
            bus.subscribe(name, self._index.note_change)

    # -- the review pages' form tokens -------------------------------------------------------------
    def ensure_key(self) -> None:
        """Create the CSRF signing key once (idempotent, safe between processes)."""
        self._tokens.ensure_key()

    def csrf_token(self, purpose: str, *, now: float | None = None) -> str:
        """A signed token for a form (CSRF対策): issue time and an HMAC of purpose and time."""
        return self._tokens.token(purpose, now=now)

    def check_csrf(self, token: str, purpose: str, *, now: float | None = None) -> None:
        self._tokens.check(token, purpose, now=now)

    # -- comparison keys and the index ---------------------------------------------------------------
    def entry_for(self, resident: Resident, history: Sequence[HistoryEntry] = ()) -> ResidentEntry:
        """A resident's comparison keys, with old names and addresses from ``history``."""
        return self._index.entry_for(resident, history)

    def refresh_index(
        self, *, rebuild: bool = False, full_history: bool = False, progress: Callable[[int], None] | None = None
    ) -> IndexStats:
        """Bring the comparison keys up to date with the register (索引の更新); see :meth:`IndexKeeper.refresh`."""
        return self._index.refresh(rebuild=rebuild, full_history=full_history, progress=progress)

    def matcher(self) -> Matcher:
        """The in-memory matcher over the stored keys (loaded once per process, again after a refresh)."""
        return self._index.matcher()

    # -- matching ----------------------------------------------------------------------------------
    def match(self, member: MemberRecord) -> MatchResult:
        """The decision for one member; nothing is recorded."""
        return self.matcher().match(member)

    def match_many(
        self,
        members: Sequence[MemberRecord],
        *,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[MatchResult]:
        """Decisions for many members on ``workers`` processes (2 by default for big lists).

        This process is one of the workers: it forks the others, which inherit the
        index and the members, and all of them take the next slice of members from
        a shared counter until none is left.
        """
        return parallel.match_many(self.matcher(), members, workers=workers, progress=progress)

    def link_members(
        self,
        agency_id: str,
        members: Sequence[MemberRecord],
        *,
        workers: int | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> list[Outcome]:
        """Match an agency's members and record the outcome: codes for links, cases for the rest."""
        self.hub.agency(agency_id)
        for member in members:
            # Japan Post's data decides what a postal code is (the file reader checked
            # this already; callers of the library may not have).
            postal.areas_for(member.postal_code)
        self.refresh_index()
        results = self.match_many(
            members, workers=workers, progress=(lambda n: progress("match", n)) if progress else None
        )
        return self.record(agency_id, results, progress=(lambda n: progress("record", n)) if progress else None)

    def code_for(self, agency_id: str, resident_id: int) -> str:
        """The agency's code for a resident, the J-LIS way: code → number → link id → hub."""
        return self._linker.code_for(agency_id, resident_id)

    def record(
        self, agency_id: str, results: Sequence[MatchResult], *, progress: Callable[[int], None] | None = None
    ) -> list[Outcome]:
        """Record decisions: issue and store codes for links, open cases for the rest."""
        return self._linker.record(agency_id, results, progress=progress)

    # -- review ------------------------------------------------------------------------------------
    def cases(
        self, *, status: str | None = "open", agency_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[CaseSummary]:
        """Review cases, oldest first (要確認一覧)."""
        return self._review.cases(status=status, agency_id=agency_id, limit=limit, offset=offset)

    def count_cases(self, status: str = "open") -> int:
        return self._review.count_cases(status)

    def case(self, case_id: int) -> CaseView:
        """One case with each candidate's register items side by side (要確認案件の詳細)."""
        return self._review.case(case_id)

    def decide(
        self, case_id: int, *, clerk: Clerk, resident_id: int | None = None, no_match: bool = False
    ) -> DecisionRecord:
        """A clerk's decision: link the member to one of the case's candidates, or record that nobody matches.

        A link below the automatic threshold waits (``pending_second``) for a
        second, different clerk; see :class:`~kojin.linkage.review.Review`.
        """
        return self._review.decide(case_id, clerk=clerk, resident_id=resident_id, no_match=no_match)

    # -- links and the audit -----------------------------------------------------------------------
    def iter_links(self, *, agency_id: str | None = None, batch: int = 5000) -> Iterator[LinkRow]:
        """Every link made, in order (for the audit)."""
        return self._outcomes.iter_links(agency_id=agency_id, batch=batch)

    def audit(
        self,
        *,
        accounts: AccountSource | None = None,
        held: Iterable[LinkRow] = (),
        by_code: Iterable[HeldLink] = (),
    ) -> AuditReport:
        """The integrity audit (総点検) over every link made here, ``held`` links, the links agencies keep
        ``by_code`` (each code read back to its resident) and ``accounts``."""
        self.refresh_index()
        matcher = self.matcher()
        rows = [*held, *self.resolve(list(by_code))]
        return run_audit(self.iter_links(), matcher, held=rows, accounts=accounts)

    def resolve(self, held: Sequence[HeldLink]) -> list[LinkRow]:
        """Whom each code an agency keeps names: the hub's link id for it, the 住民票コード J-LIS derives
        that from, the resident of that code — the number is not used."""
        holders = self.hub.code_holders(sorted({h.agency_code for h in held}))
        behind = self.numbering.codes_behind({link_id for _, link_id in holders.values()}) if holders else {}
        residents = self._keys.residents_of(sorted(set(behind.values())))
        rows: list[LinkRow] = []
        for h in held:
            agency_id, link_id = holders.get(h.agency_code, ("", ""))
            issued = agency_id == h.agency_id
            resident_id = residents.get(behind.get(link_id, "")) if issued else None
            rows.append(LinkRow(h.agency_id, h.member_id, resident_id, h.agency_code, h.member, None, h.path, issued))
        return rows

    def close(self) -> None:
        self._index.forget()
