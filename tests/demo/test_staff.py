"""Demo staff: one per role, each with a staff card that logs in with its PIN."""

from __future__ import annotations

from kojin.app import Kojin
from kojin.demo.staff import seed_demo_staff
from kojin.staff.domain import Role, may_hold
from kojin.staff.login import login_in_process


def test_one_staff_member_per_role_each_with_a_working_card(kojin: Kojin) -> None:
    made = seed_demo_staff(kojin)
    assert sorted(m.role for m in made) == sorted(Role)
    for member in made:
        assert may_hold(member.organisation, member.role)
        token = login_in_process(kojin.staff, kojin.cards.load(member.card_id), member.pin)
        principal = kojin.staff.check_token(token.access_token)
        assert (principal.staff_id, principal.role, principal.organisation) == (
            member.staff_id,
            member.role,
            member.organisation,
        )
    clerk = next(m for m in made if m.role is Role.COUNTER_CLERK)
    assert str(clerk.organisation) == f"municipality:{kojin.settings.municipality_code}"
    assert seed_demo_staff(kojin) == []  # idempotent
