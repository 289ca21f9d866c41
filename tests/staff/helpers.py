"""Staff members with staff cards, for the card-login tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from kojin.app import Kojin
from kojin.card.emulator import MyNumberCard
from kojin.card.staff_cards import IssuedStaffCard
from kojin.staff.domain import Organisation, Role
from kojin.staff.store import revoked_tokens, staff_sessions, staff_used_challenges

PIN = "4321"
CITY = Organisation.of("municipality", "131016")
OTHER_CITY = Organisation.of("municipality", "131024")


@dataclass(frozen=True)
class Holder:
    staff_id: str
    card: IssuedStaffCard

    def load(self, kojin: Kojin) -> MyNumberCard:
        return kojin.cards.load(self.card.card_id)


def staff_with_card(
    kojin: Kojin,
    staff_id: str = "c.tanaka",
    organisation: Organisation = CITY,
    role: Role = Role.COUNTER_CLERK,
    *,
    card_organisation: Organisation | None = None,
) -> Holder:
    """A staff member registered with a new staff card (from ``card_organisation``'s CA if given)."""
    card = kojin.cards.issue_staff_card(staff_id, str(card_organisation or organisation), pin=PIN, algorithm="p256")
    kojin.staff.register(staff_id, "田中　一郎", organisation, role, card_serial=card.card_serial)
    return Holder(staff_id, card)


def written(kojin: Kojin) -> tuple[int, int, int]:
    """Rows a login may write: spent challenges, revoked tokens, sessions."""
    with kojin.staff.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (staff_used_challenges, revoked_tokens, staff_sessions)
        )
