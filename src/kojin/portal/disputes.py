"""ひも付けの誤りの申し出: the links a person disputed, and what a supervisor decided.

A dispute is kept under the person's resident id and, for an agency's code
or an insurance membership, that code: what the hub suspends; for the
account, the account's key, so a decision applies to the account disputed
and not to one the person registered since. Never a number.
The person sees each of their disputes with its outcome, the deciding
office and role and its words; the supervisor's staff id is kept for the
auditor, as in the staff access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from kojin.core.i18n import pick
from kojin.portal import reasons
from kojin.portal.domain import DISPUTE_STATE_LABELS, LINK_KIND_LABELS, DisputeState, LinkKind
from kojin.portal.store import link_disputes


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Dispute:
    """One link a person disputed."""

    dispute_id: int
    resident_id: int
    kind: LinkKind
    agency_id: str | None
    code: str | None
    label: str
    note: str
    state: DisputeState
    opened_at: datetime
    opened_by: int
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolver_org: str | None = None
    resolution_note: str | None = None

    @property
    def open(self) -> bool:
        return self.state is DisputeState.OPEN

    @property
    def kind_label(self) -> str:
        return pick(*LINK_KIND_LABELS[self.kind])

    @property
    def state_label(self) -> str:
        return pick(*DISPUTE_STATE_LABELS[self.state])

    def for_person(self) -> dict[str, object]:
        """As the person sees it (the export): no code, no staff member, no database ids."""
        return {
            "kind": self.kind.value,
            "label": self.label,
            "note": self.note,
            "state": self.state.value,
            "opened_at": self.opened_at.isoformat(),
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "resolver_office": self.resolver_org,
            "resolution_note": self.resolution_note,
        }

    def as_record(self) -> dict[str, object]:
        """For the supervisor's terminal: everything but the code."""
        return {
            "dispute_id": self.dispute_id,
            "resident_id": self.resident_id,
            "kind": self.kind.value,
            "agency_id": self.agency_id,
            "label": self.label,
            "note": self.note,
            "state": self.state.value,
            "opened_at": self.opened_at.isoformat(),
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "resolved_by": self.resolved_by,
            "resolver_org": self.resolver_org,
            "resolution_note": self.resolution_note,
        }


def _dispute(row: object) -> Dispute:
    r = row._mapping  # type: ignore[attr-defined]
    opened = _utc(r["opened_at"])
    assert opened is not None
    return Dispute(
        int(r["dispute_id"]),
        int(r["resident_id"]),
        LinkKind(r["kind"]),
        r["agency_id"],
        r["code"],
        r["label"],
        r["note"],
        DisputeState(r["state"]),
        opened,
        int(r["opened_by"]),
        _utc(r["resolved_at"]),
        r["resolved_by"],
        r["resolver_org"],
        r["resolution_note"],
    )


class DisputeStore:
    """Open, list and resolve disputes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(
        self,
        resident_id: int,
        *,
        actor_id: int,
        kind: LinkKind,
        agency_id: str | None,
        code: str | None,
        label: str,
        note: str,
    ) -> Dispute:
        """A new dispute; refused while the same link has one open."""
        with self.engine.begin() as conn:
            same = conn.execute(
                select(link_disputes.c.dispute_id).where(
                    link_disputes.c.resident_id == resident_id,
                    link_disputes.c.kind == kind.value,
                    link_disputes.c.agency_id.is_(None)
                    if agency_id is None
                    else link_disputes.c.agency_id == agency_id,
                    link_disputes.c.state == DisputeState.OPEN.value,
                )
            ).first()
            if same is not None:
                raise reasons.LINK_ALREADY_DISPUTED.error()
            inserted = conn.execute(
                insert(link_disputes).values(
                    resident_id=resident_id,
                    kind=kind.value,
                    agency_id=agency_id,
                    code=code,
                    label=label[:200],
                    note=note,
                    state=DisputeState.OPEN.value,
                    opened_at=datetime.now(UTC),
                    opened_by=actor_id,
                )
            ).inserted_primary_key
        assert inserted is not None
        return self.get(int(inserted[0]))

    def get(self, dispute_id: int) -> Dispute:
        with self.engine.connect() as conn:
            row = conn.execute(select(link_disputes).where(link_disputes.c.dispute_id == dispute_id)).first()
        if row is None:
            raise reasons.DISPUTE_NOT_FOUND.error()
        return _dispute(row)

    def of(self, resident_id: int) -> list[Dispute]:
        """The person's disputes, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(link_disputes)
                .where(link_disputes.c.resident_id == resident_id)
                .order_by(link_disputes.c.dispute_id.desc())
            ).all()
        return [_dispute(r) for r in rows]

    def pending(self, *, limit: int = 200) -> list[Dispute]:
        """Disputes no supervisor has decided yet, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(link_disputes)
                .where(link_disputes.c.state == DisputeState.OPEN.value)
                .order_by(link_disputes.c.dispute_id)
                .limit(limit)
            ).all()
        return [_dispute(r) for r in rows]

    def resolve(
        self, dispute_id: int, outcome: DisputeState, *, staff_id: str, organisation: str, note: str
    ) -> Dispute:
        """Record the supervisor's decision; refused if the dispute was decided already."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(link_disputes)
                .where(link_disputes.c.dispute_id == dispute_id, link_disputes.c.state == DisputeState.OPEN.value)
                .values(
                    state=outcome.value,
                    resolved_at=datetime.now(UTC),
                    resolved_by=staff_id,
                    resolver_org=organisation,
                    resolution_note=note,
                )
            ).rowcount
        if not done:
            self.get(dispute_id)
            raise reasons.DISPUTE_CLOSED.error()
        return self.get(dispute_id)
