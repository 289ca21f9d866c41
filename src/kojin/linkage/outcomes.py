"""What the matching service decided, as stored: submissions (``batches``), links,
review cases and clerks' decisions — every statement on those tables.

A case keeps the member as the agency sent it and its candidates as JSON; the
encoding is here with the statements, so the rest of the service deals in
:class:`~kojin.linkage.records.MemberRecord` and plain records only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from kojin.core.bulk import select_in
from kojin.linkage.audit import METHOD_PATHS, LinkRow
from kojin.linkage.records import Candidate, MatchResult, MemberRecord, ReasonItem
from kojin.linkage.scoring import FIELDS
from kojin.linkage.store import batches, cases, decisions, links
from kojin.registry.domain import Sex

__all__ = ["OPEN_STATUSES", "CaseSummary", "DecisionRecord", "OutcomeStore", "StoredCase", "case_row", "link_row"]


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    agency_id: str
    member_id: str
    member_name: str
    reasons: tuple[ReasonItem, ...]
    candidates: int
    score: float | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class DecisionRecord:
    """A clerk's decision (判断記録)."""

    case_id: int
    outcome: str
    resident_id: int | None
    clerk: str
    decided_at: datetime
    agency_code: str | None = None
    clerk_id: str = ""


@dataclass(frozen=True)
class StoredCase:
    """A case as stored: the member as sent, and its candidates as the matcher saw them."""

    case_id: int
    agency_id: str
    member: MemberRecord
    reasons: tuple[ReasonItem, ...]
    candidates: list[dict[str, Any]]
    score: float | None
    status: str
    created_at: datetime
    decisions: tuple[DecisionRecord, ...]
    proposed_by: str | None = None
    proposed_resident: int | None = None


# Cases a clerk still has to act on: undecided, or a link waiting for its second clerk.
OPEN_STATUSES = ("open", "pending_second")


def _statuses(status: str) -> tuple[str, ...]:
    """``open`` asks for every case a clerk still has to act on; any other status names itself."""
    return OPEN_STATUSES if status == "open" else (status,)


def _member_json(member: MemberRecord) -> str:
    return json.dumps(
        {
            "member_id": member.member_id,
            "name": member.name,
            "kana": member.kana,
            "sex": member.sex.value,
            "birth_date": member.birth_date.isoformat(),
            "postal_code": member.postal_code,
            "address": member.address,
        },
        ensure_ascii=False,
    )


def _member_from(text: str) -> MemberRecord:
    data = json.loads(text)
    return MemberRecord(
        data["member_id"],
        data["name"],
        data["kana"],
        Sex(data["sex"]),
        date.fromisoformat(data["birth_date"]),
        data["postal_code"],
        data["address"],
    )


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "resident_id": candidate.resident_id,
        "score": round(candidate.score, 2),
        "levels": dict(zip(FIELDS, candidate.levels, strict=True)),
        "via_old_name": candidate.via_old_name,
        "via_old_address": candidate.via_old_address,
    }


def _reasons(text: str) -> tuple[ReasonItem, ...]:
    return tuple(ReasonItem.parse(part) for part in text.split(";") if part)


def case_row(batch_id: int, agency_id: str, result: MatchResult, now: datetime) -> dict[str, Any]:
    """A new open case for ``result``, with its ten best candidates."""
    member = result.member
    return {
        "batch_id": batch_id,
        "agency_id": agency_id,
        "member_id": member.member_id,
        "member": _member_json(member),
        "reasons": result.reason_text,
        "candidates": json.dumps([_candidate_json(c) for c in result.candidates[:10]], ensure_ascii=False),
        "score": result.score,
        "status": "open",
        "created_at": now,
    }


def link_row(
    agency_id: str,
    member: MemberRecord,
    resident_id: int,
    code: str,
    score: float | None,
    method: str,
    address_level: str | None,
    case_id: int | None,
    batch_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    """A link, with the member as the agency sent it (for the audit)."""
    return {
        "agency_id": agency_id,
        "member_id": member.member_id,
        "resident_id": resident_id,
        "agency_code": code,
        "score": score,
        "method": method,
        "address_level": address_level,
        "member_name": member.name,
        "member_kana": member.kana,
        "member_sex": member.sex.value,
        "member_birth_date": member.birth_date,
        "member_postal_code": member.postal_code,
        "member_address": member.address,
        "case_id": case_id,
        "batch_id": batch_id,
        "created_at": now,
    }


class OutcomeStore:
    """Batches, links, cases and decisions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- a submission ----------------------------------------------------------------------------
    def existing(self, agency_id: str, member_ids: list[str]) -> tuple[dict[str, tuple[int, str]], bool]:
        """The agency's links already made for ``member_ids`` (resident, code), and whether it has open cases."""
        found: dict[str, tuple[int, str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(member_ids), 20_000):
                for a_id, m_id, rid, code in select_in(
                    conn,
                    links,
                    ("agency_id", "member_id", "resident_id", "agency_code"),
                    "member_id",
                    member_ids[i : i + 20_000],
                ):
                    if a_id == agency_id:
                        found[str(m_id)] = (int(rid), str(code))
            has_open = (
                conn.execute(
                    select(cases.c.case_id)
                    .where(cases.c.agency_id == agency_id, cases.c.status.in_(OPEN_STATUSES))
                    .limit(1)
                ).first()
                is not None
            )
        return found, has_open

    def open_batch(self, agency_id: str, members: int, now: datetime) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    insert(batches)
                    .values(agency_id=agency_id, started_at=now, members=members)
                    .returning(batches.c.batch_id)
                ).scalar_one()
            )

    def write_outcomes(
        self,
        agency_id: str,
        batch_id: int,
        member_ids: list[str],
        has_open: bool,
        link_rows: list[dict[str, Any]],
        case_rows: list[dict[str, Any]],
        counts: tuple[int, int, int],
    ) -> list[int]:
        """In one transaction: close the members' earlier open cases, store the links and the new
        cases, and the batch's (linked, review, no_match) ``counts``; returns the new cases' ids."""
        ids: list[int] = []
        with self.engine.begin() as conn:
            if has_open:
                for i in range(0, len(member_ids), 500):
                    conn.execute(
                        update(cases)
                        .where(
                            cases.c.agency_id == agency_id,
                            cases.c.status.in_(OPEN_STATUSES),
                            cases.c.member_id.in_(member_ids[i : i + 500]),
                        )
                        .values(status="superseded")
                    )
            if link_rows:
                conn.execute(insert(links), link_rows)
            if case_rows:
                returned = conn.execute(
                    insert(cases).returning(cases.c.case_id, sort_by_parameter_order=True), case_rows
                )
                ids = [int(i) for i in returned.scalars().all()]
            linked, review, no_match = counts
            conn.execute(
                update(batches)
                .where(batches.c.batch_id == batch_id)
                .values(linked=linked, review=review, no_match=no_match)
            )
        return ids

    # -- review ------------------------------------------------------------------------------------
    def list_cases(self, *, status: str | None, agency_id: str | None, limit: int, offset: int) -> list[CaseSummary]:
        query = select(cases).order_by(cases.c.case_id).limit(max(1, min(limit, 1000))).offset(max(0, offset))
        if status:
            query = query.where(cases.c.status.in_(_statuses(status)))
        if agency_id:
            query = query.where(cases.c.agency_id == agency_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            CaseSummary(
                r.case_id,
                r.agency_id,
                r.member_id,
                json.loads(r.member)["name"],
                _reasons(r.reasons),
                len(json.loads(r.candidates)),
                r.score,
                r.status,
                r.created_at,
            )
            for r in rows
        ]

    def count_cases(self, status: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(cases).where(cases.c.status.in_(_statuses(status)))
                ).scalar_one()
            )

    def case(self, case_id: int) -> StoredCase | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
            made = conn.execute(
                select(decisions).where(decisions.c.case_id == case_id).order_by(decisions.c.decision_id)
            ).all()
        if row is None:
            return None
        return StoredCase(
            row.case_id,
            row.agency_id,
            _member_from(row.member),
            _reasons(row.reasons),
            list(json.loads(row.candidates)),
            row.score,
            row.status,
            row.created_at,
            tuple(
                DecisionRecord(d.case_id, d.outcome, d.resident_id, d.clerk, d.decided_at, None, d.clerk_id or "")
                for d in made
            ),
            row.proposed_by,
            None if row.proposed_resident is None else int(row.proposed_resident),
        )

    def close_case(
        self,
        case_id: int,
        decision: DecisionRecord,
        link: dict[str, Any] | None,
        *,
        was: StoredCase,
        status: str,
    ) -> bool:
        """Record ``decision``, moving the case from the state it ``was`` read in to ``status``, and, with
        ``link``, make it the member's one link; False (and nothing written) if the case changed meanwhile."""
        pending = status == "pending_second"
        with self.engine.begin() as conn:
            query = update(cases).where(cases.c.case_id == case_id, cases.c.status == was.status)
            if was.status == "pending_second":
                # The proposal read is the one confirmed or replaced: not one made since.
                query = query.where(
                    cases.c.proposed_by == was.proposed_by, cases.c.proposed_resident == was.proposed_resident
                )
            changed = conn.execute(
                query.values(
                    status=status,
                    proposed_by=decision.clerk_id if pending else None,
                    proposed_resident=decision.resident_id if pending else None,
                )
            ).rowcount
            if not changed:
                return False
            conn.execute(
                insert(decisions).values(
                    case_id=case_id,
                    outcome=decision.outcome,
                    resident_id=decision.resident_id,
                    clerk=decision.clerk,
                    clerk_id=decision.clerk_id,
                    decided_at=decision.decided_at,
                )
            )
            if link is not None:
                conn.execute(
                    delete(links).where(links.c.agency_id == link["agency_id"], links.c.member_id == link["member_id"])
                )
                conn.execute(insert(links).values(**link))
        return True

    # -- the audit -------------------------------------------------------------------------------
    def iter_links(self, *, agency_id: str | None = None, batch: int = 5000) -> Iterator[LinkRow]:
        """Every link made, in order."""
        last = 0
        while True:
            query = select(links).where(links.c.link_no > last).order_by(links.c.link_no).limit(batch)
            if agency_id:
                query = query.where(links.c.agency_id == agency_id)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for r in rows:
                yield LinkRow(
                    r.agency_id,
                    r.member_id,
                    int(r.resident_id),
                    r.agency_code,
                    MemberRecord(
                        r.member_id,
                        r.member_name,
                        r.member_kana,
                        Sex(r.member_sex),
                        r.member_birth_date,
                        r.member_postal_code,
                        r.member_address,
                    ),
                    r.address_level,
                    METHOD_PATHS[r.method],
                )
            last = rows[-1].link_no
