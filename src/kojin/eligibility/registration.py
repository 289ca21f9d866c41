"""The card's registration for health insurance use (健康保険証利用登録), per membership."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, insert, select, update

from kojin.core.bulk import bulk_insert
from kojin.eligibility.copies import InsurerCopies
from kojin.eligibility.domain import (
    Membership,
)
from kojin.eligibility.store import (
    registrations,
)


class CardRegistrations(InsurerCopies):
    """Which memberships are registered to the card, and telling the insurer when that changes."""

    def registration(self, membership: Membership) -> str | None:
        row = self._readers.first(
            "SELECT status FROM registrations WHERE insurer_id = ? AND member_code = ?",
            (membership.insurer_id, membership.member_code),
        )
        return None if row is None else str(row[0])

    def set_registration(self, memberships: Iterable[Membership], *, registered: bool, by: str) -> int:
        """Register or cancel (解除) the card's use as the insurance card; the insurers are told."""
        status = "registered" if registered else "cancelled"
        changed: list[Membership] = []
        now = self.now()
        with self.engine.begin() as conn:
            for m in memberships:
                key = and_(registrations.c.insurer_id == m.insurer_id, registrations.c.member_code == m.member_code)
                current = conn.execute(select(registrations.c.status).where(key)).scalar()
                if current == status:
                    continue
                if current is None:
                    conn.execute(
                        insert(registrations).values(
                            insurer_id=m.insurer_id,
                            member_code=m.member_code,
                            status=status,
                            changed_at=now,
                            changed_by=by,
                        )
                    )
                else:
                    conn.execute(update(registrations).where(key).values(status=status, changed_at=now, changed_by=by))
                changed.append(m)
        if self._listener is not None:
            for m in changed:
                self._listener.registration_changed(m, registered, self.today())
        return len(changed)

    def register_many(self, memberships: Sequence[Membership], *, by: str) -> int:
        """Bulk registration for memberships with no registration row yet (seeding)."""
        now = self.now()
        with self.engine.begin() as conn:
            have = {(a, b) for a, b in conn.execute(select(registrations.c.insurer_id, registrations.c.member_code))}
            rows = [
                (m.insurer_id, m.member_code, "registered", now, by)
                for m in memberships
                if (m.insurer_id, m.member_code) not in have
            ]
            bulk_insert(conn, registrations, ("insurer_id", "member_code", "status", "changed_at", "changed_by"), rows)
        return len(rows)

    def registered_codes(self, insurer_id: str) -> set[str]:
        """The insurer's members whose card is registered (what it needs to know whom to send a 資格確認書)."""
        with self.engine.connect() as conn:
            return {
                str(c)
                for (c,) in conn.execute(
                    select(registrations.c.member_code).where(
                        registrations.c.insurer_id == insurer_id,
                        registrations.c.status == "registered",
                    )
                )
            }
