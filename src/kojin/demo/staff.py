"""Demo staff (デモ職員): one staff member per role, each with a staff card and its PIN.

The counter clerk and the supervisor work at the demo municipality; the others
where their role belongs: J-LIS, the pension service (an agency at the hub),
the Japan Health Insurance Association (an insurer), the linkage office, the
oversight body (the auditor); the system administrator at the municipality.
Idempotent: a member already on the roster is left as it is (and not listed
again with a PIN nobody knows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kojin.staff.domain import ROLE_LABELS, Organisation, Role

if TYPE_CHECKING:
    from kojin.app import Kojin

DEMO_PIN = "1234"
DEMO_AGENCY = "jps"  # 日本年金機構, one of demo.agencies.DEMO_AGENCIES
DEMO_INSURER = "kyokai"  # 全国健康保険協会, one of eligibility.domain.DEMO_INSURERS


@dataclass(frozen=True)
class DemoStaff:
    staff_id: str
    display_name: str
    role: Role
    organisation: Organisation
    card_id: str  # the card file the reader offers
    card_serial: str
    pin: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role].ja


def demo_staff_plan(municipality: str) -> list[tuple[str, str, Role, Organisation]]:
    """(staff id, name, role, organisation) of every demo staff member."""
    town = Organisation.of("municipality", municipality)
    return [
        ("clerk", "窓口　花子", Role.COUNTER_CLERK, town),
        ("supervisor", "監督　一郎", Role.SUPERVISOR, town),
        ("jlis-operator", "機構　次郎", Role.JLIS_OPERATOR, Organisation.of("jlis")),
        ("agency-officer", "年金　三郎", Role.AGENCY_OFFICER, Organisation.of("agency", DEMO_AGENCY)),
        ("insurer-officer", "保険　四郎", Role.INSURER_OFFICER, Organisation.of("insurer", DEMO_INSURER)),
        ("linkage-clerk", "照合　五郎", Role.LINKAGE_CLERK, Organisation.of("linkage")),
        ("auditor", "監査　六子", Role.AUDITOR, Organisation.of("oversight")),
        ("sysadmin", "管理　七海", Role.SYSADMIN, town),
    ]


def seed_demo_staff(kojin: Kojin, pin: str = DEMO_PIN) -> list[DemoStaff]:
    """Register the demo staff not yet on the roster, each with a new staff card; return them."""
    made: list[DemoStaff] = []
    for staff_id, name, role, organisation in demo_staff_plan(kojin.settings.municipality_code):
        if kojin.staff.roster.find(staff_id) is not None:
            continue
        card = kojin.cards.issue_staff_card(staff_id, str(organisation), pin=pin)
        kojin.staff.register(staff_id, name, organisation, role, card_serial=card.card_serial)
        made.append(DemoStaff(staff_id, name, role, organisation, card.card_id, card.card_serial, pin))
    return made
