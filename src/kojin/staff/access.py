"""The staff access log (職員アクセス記録): one row per person shown to a staff member, with why.

The person reads it without the staff member (organisation, role, purpose,
time: the query does not even fetch the name); the auditor reads it with the name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select

from kojin.staff.domain import Access, AccessEntry, AccessSeen, Organisation, Purpose, Role, StaffPrincipal
from kojin.staff.store import access_log, staff_members


def aware(value: datetime) -> datetime:
    """A stored time in UTC (SQLite hands times back without their zone)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _seen(row: Any) -> AccessSeen:  # an access_log row, or its columns the person may see
    return AccessSeen(
        aware(row.at), Organisation.of(row.org_kind, row.org_id), Role(row.role), row.purpose, Access(row.what)
    )


def _entry(row: Row[Any]) -> AccessEntry:
    seen = _seen(row)
    return AccessEntry(
        row.entry_id,
        seen.at,
        row.staff_id,
        row.display_name or "",
        seen.role,
        seen.organisation,
        row.person_key,
        seen.purpose,
        seen.what,
        row.shown,
    )


class AccessLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        principal: StaffPrincipal,
        person_key: str,
        purpose: Purpose,
        what: Access,
        count: int,
        at: datetime,
        bulk_id: int | None = None,
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(access_log).values(
                    at=at,
                    staff_id=principal.staff_id,
                    role=principal.role.value,
                    org_kind=principal.organisation.kind.value,
                    org_id=principal.organisation.id,
                    person_key=person_key,
                    purpose=purpose.name,
                    what=what.value,
                    shown=count,
                    bulk_id=bulk_id,
                )
            )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def of_person(self, person_key: str) -> list[AccessSeen]:
        """What the person sees: who by organisation and role only, never the staff member."""
        columns = (access_log.c.at, access_log.c.org_kind, access_log.c.org_id, access_log.c.role)
        query = (
            select(*columns, access_log.c.purpose, access_log.c.what)
            .where(access_log.c.person_key == person_key)
            .order_by(access_log.c.entry_id)
        )
        with self.engine.connect() as conn:
            return [_seen(row) for row in conn.execute(query)]

    def by_staff(self, staff_id: str) -> list[AccessEntry]:
        """What the auditor sees of one staff member's accesses, with the name."""
        query = (
            select(access_log, staff_members.c.display_name)
            .select_from(access_log.outerjoin(staff_members, staff_members.c.staff_id == access_log.c.staff_id))
            .where(access_log.c.staff_id == staff_id)
            .order_by(access_log.c.entry_id)
        )
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]
