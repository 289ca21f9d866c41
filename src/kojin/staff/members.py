"""The staff roster: who works for which organisation in which role, and whether they still may.

Separate from the access log and the bulk approvals because every other staff
operation only reads it (is this member there and active?).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.staff import reasons
from kojin.staff.domain import (
    Organisation,
    Role,
    StaffMember,
    check_may_hold,
    validate_card_serial,
    validate_display_name,
    validate_staff_id,
)
from kojin.staff.store import staff_members


def member_of(row: Row[Any]) -> StaffMember:
    return StaffMember(
        row.staff_id,
        row.display_name,
        Organisation.of(row.org_kind, row.org_id),
        Role(row.role),
        row.card_serial,
        bool(row.active),
    )


class Roster:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def register(
        self, staff_id: str, display_name: str, organisation: Organisation, role: Role, card_serial: str | None = None
    ) -> StaffMember:
        """Add a staff member; the organisation must be one that may hold the role."""
        member = StaffMember(
            validate_staff_id(staff_id),
            validate_display_name(display_name),
            organisation,
            role,
            validate_card_serial(card_serial),
            True,
        )
        check_may_hold(organisation, role)
        with self.engine.connect() as conn:
            if conn.execute(select(staff_members.c.staff_id).where(staff_members.c.staff_id == staff_id)).first():
                raise reasons.EXISTS.error(staff_id=staff_id)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(staff_members).values(
                        staff_id=member.staff_id,
                        display_name=member.display_name,
                        org_kind=organisation.kind.value,
                        org_id=organisation.id,
                        role=role.value,
                        card_serial=member.card_serial,
                        active=True,
                        created_at=datetime.fromtimestamp(self._clock(), UTC),
                    )
                )
        except IntegrityError:  # registered meanwhile, or the card is another member's
            raise reasons.EXISTS.error(staff_id=staff_id) from None
        return member

    def find(self, staff_id: str) -> StaffMember | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(staff_members).where(staff_members.c.staff_id == staff_id)).first()
        return None if row is None else member_of(row)

    def get(self, staff_id: str) -> StaffMember:
        member = self.find(staff_id)
        if member is None:
            raise reasons.UNKNOWN.error(staff_id=staff_id)
        return member

    def active(self, staff_id: str) -> StaffMember:
        """The member, who must exist and be active (``staff.unknown``, ``staff.inactive``)."""
        member = self.get(staff_id)
        if not member.active:
            raise reasons.INACTIVE.error(staff_id=staff_id)
        return member

    def deactivate(self, staff_id: str) -> None:
        """Stop a member (left the organisation, card revoked): their tokens stop working at once."""
        with self.engine.begin() as conn:
            done = conn.execute(update(staff_members).where(staff_members.c.staff_id == staff_id).values(active=False))
        if done.rowcount == 0:
            raise reasons.UNKNOWN.error(staff_id=staff_id)

    def set_card(self, staff_id: str, card_serial: str | None) -> None:
        """Record the member's current staff card (None: no card); a card is one member's only."""
        serial = validate_card_serial(card_serial)
        try:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(staff_members).where(staff_members.c.staff_id == staff_id).values(card_serial=serial)
                )
        except IntegrityError:
            raise reasons.CARD_IN_USE.error() from None
        if done.rowcount == 0:
            raise reasons.UNKNOWN.error(staff_id=staff_id)

    def names(self, staff_ids: set[str]) -> dict[str, str]:
        if not staff_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(staff_members.c.staff_id, staff_members.c.display_name).where(
                    staff_members.c.staff_id.in_(staff_ids)
                )
            )
            return {r.staff_id: r.display_name for r in rows}
